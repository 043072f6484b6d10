"""A rewrite of defaults in code as a pull request asks for it, and its refusal: what
the codemod takes and raises, apart from the codemod, which needs libcst (slow to
import, and needed only by the work on a pull request)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """The new default of variable `name`, whose call the worker saw at `line` of
    `function` (the call site the SDK records)."""

    name: str
    function: str
    line: int
    value: Any


class RewriteRefused(Exception):
    """A change that cannot be written into the file; the message names the variable
    and says why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Cannot rewrite the default of '{name}': {reason}.")

    @property
    def message(self) -> str:
        return str(self)
