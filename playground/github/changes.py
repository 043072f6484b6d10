"""What a pull request changes: each override that differs from the default in code,
at the call site the catalog recorded, and the files rewritten with the codemod."""

import difflib
import posixpath
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hatchet.errors import InvalidRequest
from playground.github.client import doing
from playground.models import GitHubConnection, PullRequestRequest, Variable
from playground.rewrites import Change, RewriteRefused

if TYPE_CHECKING:
    from github.Repository import Repository


@dataclass(frozen=True)
class VariableChange:
    step: str
    name: str
    path: str
    function: str
    line: int
    old: Any
    new: Any


@dataclass(frozen=True)
class FileChange:
    path: str
    old: str
    new: str

    @property
    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


def repository_path(call_path: str, connection: GitHubConnection, name: str) -> str:
    """The call site's path (relative to the worker's project root) in the repository."""
    if not call_path or call_path.startswith(("/", "<")) or re.match(r"^[A-Za-z]:", call_path):
        raise RewriteRefused(
            name,
            f"its call site '{call_path}' is outside the worker's project root; run the "
            "worker with HATCHET_PROJECT_ROOT set to the repository's checkout",
        )
    path = call_path
    strip = connection.strip_prefix
    if strip and (path == strip or path.startswith(strip + "/")):
        path = path[len(strip) :].lstrip("/")
    path = posixpath.normpath(posixpath.join(connection.add_prefix, path))
    if path.startswith("../") or path == "..":
        raise RewriteRefused(name, f"its call site '{call_path}' maps outside the repository")
    return path


def variable_changes(
    request: PullRequestRequest, connection: GitHubConnection
) -> list[VariableChange]:
    """Each override of the request that differs from the default in code, with the
    call site the catalog holds for it."""
    catalog = {(v.step, v.name): v for v in Variable.objects.filter(workflow=request.workflow)}
    changes = []
    for step, values in sorted(request.overrides.items()):
        for name, value in sorted(values.items()):
            variable = catalog.get((step, name))
            site = variable.call_site if variable is not None else {}
            if variable is None or not site.get("path") or not site.get("line"):
                raise RewriteRefused(
                    name, f"the catalog has no call site for {step}.{name}; run the step once"
                )
            if value == variable.default and type(value) is type(variable.default):
                continue
            changes.append(
                VariableChange(
                    step=step,
                    name=name,
                    path=repository_path(str(site["path"]), connection, name),
                    function=str(site.get("function") or ""),
                    line=int(site["line"]),
                    old=variable.default,
                    new=value,
                )
            )
    if not changes:
        raise InvalidRequest(
            f"Variant '{request.variant_name}' r{request.revision} sets every variable to "
            "its default in code: there is nothing to change."
        )
    return changes


def rewritten_files(
    repo: "Repository", base_sha: str, base: str, changes: Sequence[VariableChange]
) -> list[FileChange]:
    """Every file the changes touch, read at the base and rewritten; any refusal
    stops it all before anything is written."""
    from playground.codemod import rewrite_defaults

    by_path: dict[str, list[VariableChange]] = defaultdict(list)
    for change in changes:
        by_path[change.path].append(change)
    files = []
    for path, path_changes in sorted(by_path.items()):
        with doing(f"reading {path} at {base}"):
            contents = repo.get_contents(path, ref=base_sha)
        if isinstance(contents, list):
            raise RewriteRefused(path_changes[0].name, f"{path} is a directory in the repository")
        try:
            old = contents.decoded_content.decode("utf-8")
        except UnicodeDecodeError:
            raise RewriteRefused(path_changes[0].name, f"{path} is not UTF-8 text") from None
        new = rewrite_defaults(
            old, [Change(c.name, c.function, c.line, c.new) for c in path_changes]
        )
        if new != old:
            files.append(FileChange(path, old, new))
    if not files:
        raise RewriteRefused(
            ", ".join(c.name for c in changes), f"the code at {base} already has these values"
        )
    return files
