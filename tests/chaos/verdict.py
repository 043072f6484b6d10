"""The verdict of a run: the invariants and their counts, with examples, the steps
that ran twice for an allowed reason, the time to recover after each fault, and the
table printed at the end."""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from tests.chaos.faults import KINDS

LOST = "runs lost"
STUCK = "runs stuck"
FAILED = "runs failed"
RECORDED_TWICE = "results recorded twice"
CREATED_TWICE = "runs created twice"
SERVER_ERRORS = "HTTP 5xx"
CRON_TWICE = "cron ticks fired twice"
UNEXPLAINED = "steps executed twice, unexplained"
NOT_ACCEPTED = "triggers refused or not accepted"
DIED = "processes died on their own"
NOT_RECOVERED = "faults never recovered from"
LIVE_MISSED = "live updates missed"
# Each must be 0.
INVARIANTS = (
    LOST,
    STUCK,
    FAILED,
    RECORDED_TWICE,
    CREATED_TWICE,
    SERVER_ERRORS,
    CRON_TWICE,
    UNEXPLAINED,
    NOT_ACCEPTED,
    DIED,
    NOT_RECOVERED,
    LIVE_MISSED,
)
# How many examples of each broken invariant the table spells out (verdict.json has all).
EXAMPLES = 5
WIDTH = 38


@dataclass
class Recovery:
    """After one fault: how long the stack took to be whole again (`down_seconds`, the
    harness's view: the process answers again) and to serve again (`seconds`)."""

    kind: str
    target: str
    detail: str
    seconds: float | None
    down_seconds: float | None
    note: str = ""


@dataclass
class Verdict:
    setup: str
    run_dir: str
    counts: dict[str, int]
    examples: dict[str, list[str]]
    facts: dict[str, Any]
    repeats: dict[str, int]
    recoveries: list[Recovery]
    seconds: float

    def broken(self) -> list[str]:
        return [name for name in INVARIANTS if self.counts.get(name, 0)]

    def table(self) -> str:
        facts = self.facts
        by_workflow = ", ".join(f"{name} {n}" for name, n in facts["runs_by_workflow"].items())
        lines = [
            f"Fault suite, {self.setup}",
            "",
            f"runs: {facts['runs']} ({by_workflow}); step executions: {facts['executions']}",
            f"triggers and events sent: {facts['triggers']}; {facts['ambiguous']} met an unknown "
            f"outcome ({facts['found']} then found by their tag); "
            f"{facts['resent']} sent more than once",
            f"faults: {facts['faults']}; settled: {facts['settled']}; "
            f"wall time {self.seconds:.0f} s",
            "",
            f"{'invariant':<{WIDTH}} {'count':>6}",
        ]
        for name in INVARIANTS:
            count = self.counts.get(name, 0)
            lines.append(f"{name:<{WIDTH}} {count:>6}  {'ok' if count == 0 else 'BROKEN'}")
        why = ", ".join(f"{reason}: {n}" for reason, n in self.repeats.items()) or "none"
        explained = sum(self.repeats.values())
        lines.append(f"{'steps executed twice, explained':<{WIDTH}} {explained:>6}  ({why})")
        lines.append(f"{'cron ticks missed (allowed)':<{WIDTH}} {facts['cron_missed']:>6}")
        lines.append(f"live updates: {facts['live']}")
        lines += ["", f"{'time to recover':<28} {'n':>3} {'p50 s':>7} {'max s':>7}  down p50/max s"]
        for kind in KINDS:
            of_kind = [r for r in self.recoveries if r.kind == kind]
            if of_kind:
                lines.append(recovery_row(kind, of_kind))
        lines.append("")
        for recovery in self.recoveries:
            note = f"; {recovery.note}" if recovery.note else ""
            lines.append(
                f"  {recovery.kind}: {recovery.detail}; served again after "
                f"{fmt(recovery.seconds)} s{note}"
            )
        for name in self.broken():
            lines += ["", f"{name}: {self.counts[name]} (examples below)"]
            for example in self.examples.get(name, [])[:EXAMPLES]:
                lines.append("  - " + example.replace("\n", "\n    "))
        lines += ["", f"logs, execution records and verdict.json: {self.run_dir}"]
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))


def recovery_row(kind: str, recoveries: list[Recovery]) -> str:
    times = [r.seconds for r in recoveries if r.seconds is not None]
    downs = [r.down_seconds for r in recoveries if r.down_seconds is not None]
    never = len(recoveries) - len(times)
    return (
        f"{kind:<28} {len(recoveries):>3} {fmt(median(times) if times else None):>7} "
        f"{fmt(max(times) if times else None):>7}  "
        f"{fmt(median(downs) if downs else None)}/{fmt(max(downs) if downs else None)}"
        + (f"  ({never} never served again)" if never else "")
    )


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def clock(at: float | None) -> str:
    """A time as the API shows it (UTC), to the millisecond."""
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3] + "Z"
