"""The JSON every edge takes (REST bodies, socket frames): parsed with a bounded depth,
and holding only text that both databases store alike. PostgreSQL refuses U+0000 in
text and JSON where SQLite keeps it, and a lone surrogate (`"\\ud800"`) is no
character at all: both are refused on both backends, before anything is stored."""

import json
import re
from typing import Any

# Deeper JSON is refused: Python's parser and serialisers recurse, and 5,000 levels
# raised RecursionError where an error answer was due.
MAX_DEPTH = 100

# Only these escapes can make a NUL or a surrogate in parsed JSON (raw control
# characters are invalid JSON), so text without them needs no look at its strings.
SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class JSONInputError(ValueError):
    """JSON that is refused; `code` is the error code the answer carries and `path`
    where in the document the refused part is."""

    def __init__(self, code: str, message: str, path: str = "", document: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        # The parsed document, when it parsed: a socket answers by its id.
        self.document = document


def load(text: str | bytes, what: str = "The body") -> Any:
    """`text` parsed; raises JSONInputError (`malformed_json` or `invalid_text`) whose
    message names the document as `what`."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise JSONInputError("malformed_json", f"{what} is not valid JSON: {exc}.") from None
    except RecursionError:
        raise JSONInputError("malformed_json", f"{what} {TOO_DEEP}") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    if deep or SUSPECT_ESCAPE.search(text):
        try:
            check(value)
        except JSONInputError as refused:
            message = f"{what} {TOO_DEEP}" if refused.code == "malformed_json" else refused.message
            raise JSONInputError(refused.code, message, refused.path, value) from None
    return value


TOO_DEEP = f"is nested too deeply (JSON may be at most {MAX_DEPTH} levels deep)."


def text_problem(text: str) -> str | None:
    """What makes `text` unstorable, or None."""
    if "\x00" in text:
        return "the character U+0000 (NUL)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (half of a UTF-16 pair)"
    return None


def check_text(text: str, path: str) -> None:
    problem = text_problem(text)
    if problem:
        raise JSONInputError(
            "invalid_text",
            f"Text may not hold {problem}" + (f" (at {path})." if path else "."),
            path,
        )


def check(value: Any, path: str = "") -> None:
    """Raise at the first part of `value`, in document order, that is nested deeper than
    MAX_DEPTH or is a key or string holding NUL or a lone surrogate."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise JSONInputError("malformed_json", f"JSON {TOO_DEEP}")
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                check_text(key, f"{where} (a key)" if where else "a key")
                children.append((child, f"{where}.{key}" if where else key, depth + 1))
        else:
            children = [(child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item)]
        stack.extend(reversed(children))
