"""The words of a pull request: its branch's name, title, body and commit message, and
the evidence of its latest comparison."""

import json
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from playground.gates import GateVerdict, shown
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
    request: PullRequestRequest,
    changes: Sequence[VariableChange],
    files: Sequence[FileChange],
    evidence: GateVerdict | None = None,
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
    if evidence is not None:
        lines += ["", evidence_markdown(evidence).rstrip("\n")]
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


def comparison_url(comparison_id: Any) -> str:
    return f"{settings.HATCHET_PUBLIC_URL}/playground/compare/{comparison_id}"


def evidence_markdown(verdict: GateVerdict) -> str:
    """The comparison's figures per column, the verdict and the rows that regressed."""
    names = [e["name"] for e in verdict.columns[0]["evaluators"]] if verdict.columns else []
    lines = [
        f"### Evaluation: {'regressed' if verdict.regressed else 'no regression'}",
        "",
        f"[The comparison in Hatchet]({comparison_url(verdict.comparison)}) of this "
        "variant against the defaults in code.",
        "",
        "| column | "
        + " | ".join(f"{table_cell(n)} (pass rate / mean)" for n in names)
        + " | mean latency | tokens | cost | improved / regressed |",
        "|---|" + "---|" * (len(names) + 4),
    ]
    for column in verdict.columns:
        scores = " | ".join(
            f"{shown(e['pass_rate'], '.0%')} / {shown(e['mean_score'], '.2f')}"
            for e in column["evaluators"]
        )
        title = table_cell(column["title"]) + (" (baseline)" if column["is_baseline"] else "")
        lines.append(
            f"| {title} | {scores} | {shown(column['mean_latency_ms'], '.0f')} ms | "
            f"{column['total_tokens']} | {shown(column['total_cost'], '.6f')} | "
            f"{column['improved']} / {column['regressed']} |"
        )
    lines += ["", *(f"- :x: {table_cell(reason)}" for reason in verdict.reasons)]
    if verdict.regressed_rows:
        lines += ["", "Rows whose score fell below the baseline's:"]
        lines += [
            f"- {row['title']}: {row['baseline_score']:.2f} -> {row['score']:.2f}"
            for row in verdict.regressed_rows[:RUNS_LINKED]
        ]
        if len(verdict.regressed_rows) > RUNS_LINKED:
            lines.append(f"- and {len(verdict.regressed_rows) - RUNS_LINKED} more")
    return "\n".join(lines).rstrip("\n") + "\n"
