"""The words of a pull request: its branch's name, title, body and commit message."""

import json
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from playground.github.changes import FileChange, VariableChange
from playground.models import PlaygroundRun, PullRequestRequest

SHORT_VALUE = 80
MAX_BODY = 60_000
RUNS_LINKED = 20


def branch_name(variant_name: str, variant_id: Any) -> str:
    """Stable for a variant: opening again updates its branch."""
    slug = re.sub(r"[^a-z0-9]+", "-", variant_name.lower()).strip("-")[:40] or "variant"
    return f"hatchet/playground/{slug}-{str(variant_id).replace('-', '')[:8]}"


def shortened(value: Any, limit: int = SHORT_VALUE) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pull_request_title(request: PullRequestRequest, changes: Sequence[VariableChange]) -> str:
    names = ", ".join(f"{c.step}.{c.name}" for c in changes)
    title = f"Playground: {names} from variant '{request.variant_name}'"
    return title if len(title) <= 120 else title[:119] + "…"


def runs_that_tried(request: PullRequestRequest) -> list[str]:
    if request.variant_id is None:
        return []
    records = (
        PlaygroundRun.objects.filter(variant_id=request.variant_id)
        .select_related("run")
        .order_by("-created_at")[:RUNS_LINKED]
    )
    return [
        f"- [{record.kind} {str(record.run_id)[:8]}]"
        f"({settings.HATCHET_PUBLIC_URL}/runs/{record.run_id}): "
        f"{record.run.status}, revision {record.variant_revision}, "
        f"{record.created_at:%Y-%m-%d %H:%M} UTC"
        for record in records
    ]


def table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def pull_request_body(
    request: PullRequestRequest, changes: Sequence[VariableChange], files: Sequence[FileChange]
) -> str:
    lines = [
        f"Opened from the Hatchet playground by {request.created_by_name}: variant "
        f"**{request.variant_name}** (revision {request.revision}) of workflow "
        f"**{request.workflow.name}**.",
        "",
        "| variable | file | old | new |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.step}.{c.name}` | `{c.path}` | {table_cell(shortened(c.old))} | "
        f"{table_cell(shortened(c.new))} |"
        for c in changes
    ]
    runs = runs_that_tried(request)
    lines += ["", "Playground runs that tried this variant:", *(runs or ["- none yet"])]
    diff = "".join(f.diff for f in files)
    fence = "```"
    while fence in diff:
        fence += "`"
    lines += ["", "<details><summary>Full diff</summary>", "", f"{fence}diff", diff.rstrip("\n")]
    lines += [fence, "", "</details>"]
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 80] + f"\n{fence}\n\n(The diff is cut here; see the commit.)\n"
    return body


def commit_message(request: PullRequestRequest, changes: Sequence[VariableChange]) -> str:
    lines = [f"Playground: variant '{request.variant_name}' r{request.revision}", ""]
    lines += [f"- {c.step}.{c.name}: {shortened(c.old)} -> {shortened(c.new)}" for c in changes]
    return "\n".join(lines) + "\n"
