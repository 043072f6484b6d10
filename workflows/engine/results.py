"""What workers report about the step runs they hold, applied in batches.

A report names its attempt and is applied at most once: once the step run has moved
past that attempt or state, the report is stale and changes nothing. A batch of
reports is one transaction, however many runs it touches.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction

from hatchet.errors import NotFound
from workflows.engine.effects import Effects
from workflows.engine.locked import LockedRuns
from workflows.engine.transitions import (
    end_failed_attempt,
    is_past_deadline,
    requeue_held_step_run,
    start_run,
    start_step_run,
    succeed_step_run,
    time_out_running_step_run,
)
from workflows.models import STEP_RUN_HELD, StepRun, StepRunAttempt, StepRunLine, StepRunStatus

STARTED = "started"
COMPLETED = "completed"
FAILED = "failed"
REFRESH_TIMEOUT = "refresh_timeout"
# Reports that end the attempt and free the worker's slot.
ENDING = {COMPLETED, FAILED}


@dataclass(frozen=True)
class Report:
    kind: str
    step_run_id: UUID
    attempt: int
    output: Any = None
    playground: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    error: str = ""
    traceback: str = ""
    retryable: bool = True
    handed_back: bool = False
    timed_out: bool = False
    increment_seconds: float = 0.0
    # When the worker began the step, by its clock: a step that reports its start with
    # its result (a short one) would otherwise seem to take no time.
    started_at: datetime | None = None


def current_step_run(locked: LockedRuns, report: Report, worker_id: UUID) -> StepRun | None:
    step_run = locked.step_runs.get(report.step_run_id)
    if (
        step_run is None
        or step_run.attempt != report.attempt
        or step_run.status not in STEP_RUN_HELD
        or step_run.worker_id != worker_id
    ):
        return None
    return step_run


def apply_report(locked: LockedRuns, report: Report, worker_id: UUID) -> bool:
    step_run = current_step_run(locked, report, worker_id)
    if step_run is None:
        return False
    if report.kind == STARTED:
        if step_run.status != StepRunStatus.ASSIGNED:
            return False
        start_step_run(locked, step_run, report.started_at)
        return True
    if report.kind == REFRESH_TIMEOUT:
        if step_run.status != StepRunStatus.RUNNING:
            return False
        step_run.deadline = locked.now + timedelta(seconds=report.increment_seconds)
        locked.changed(step_run)
        return True
    if step_run.status == StepRunStatus.ASSIGNED and not report.handed_back:
        # A worker may send a short step's result without step.started before it.
        start_step_run(locked, step_run, report.started_at)
    if is_past_deadline(step_run, locked.now) or (
        report.timed_out and step_run.status == StepRunStatus.RUNNING
    ):
        # The deadline decides, not the tick that notices it: a late result loses, and
        # a worker whose own clock stopped the step reports the timeout itself.
        time_out_running_step_run(locked, step_run)
    elif report.kind == COMPLETED:
        start_run(locked, locked.run_of(step_run))
        step_run.output = report.output
        step_run.playground = report.playground
        step_run.usage = report.usage
        succeed_step_run(locked, step_run)
    elif report.handed_back:
        requeue_held_step_run(locked, step_run, f"handed back: {report.error}", counts=False)
    else:
        end_failed_attempt(
            locked,
            step_run,
            attempt_status=StepRunStatus.FAILED,
            error=report.error,
            traceback=report.traceback,
            retryable=report.retryable,
        )
    return True


def apply_reports(tenant_id: UUID, worker_id: UUID, reports: Sequence[Report]) -> list[bool | None]:
    """Apply a worker's reports in order, in one transaction. For each: True if
    applied, False if stale, None if the tenant has no such step run."""
    step_run_ids = {report.step_run_id for report in reports}
    outcomes: list[bool | None] = []
    with transaction.atomic(savepoint=False):
        locked = LockedRuns(of_step_runs=(tenant_id, step_run_ids))
        for report in reports:
            known = report.step_run_id in locked.step_runs
            outcomes.append(apply_report(locked, report, worker_id) if known else None)
        locked.flush()
    return outcomes


@dataclass(frozen=True)
class Refused:
    """A report or line that cannot be stored (its text holds NUL or a lone surrogate,
    or the database refused it): a refused result fails its step run with `reason`."""

    reason: str


@dataclass(frozen=True)
class Unstorable:
    """A report or line whose text was found unstorable before it reached the database
    (hatchet/jsontext.py): refused alike on every backend."""

    item: "Report | Line"
    problem: str


Outcome = bool | None | Refused


def apply_reports_and_lines(
    tenant_id: UUID, worker_id: UUID, items: Sequence["Report | Line | Unstorable"]
) -> list[Outcome]:
    """Reports and lines of one batch, each kind in one go, then the unstorable ones
    refused; outcomes in the batch's order. Call inside a transaction: it holds or
    fails as a whole."""
    reports = [item for item in items if isinstance(item, Report)]
    lines = [item for item in items if isinstance(item, Line)]
    report_outcomes = iter(apply_reports(tenant_id, worker_id, reports) if reports else [])
    line_outcomes = iter(append_step_run_lines(tenant_id, lines, worker_id) if lines else [])
    refusals = iter(
        [
            refuse(tenant_id, worker_id, item.item, item.problem)
            for item in items
            if isinstance(item, Unstorable)
        ]
    )
    return [
        next(report_outcomes)
        if isinstance(item, Report)
        else next(line_outcomes)
        if isinstance(item, Line)
        else next(refusals)
        for item in items
    ]


def refuse(tenant_id: UUID, worker_id: UUID, item: "Report | Line", problem: str) -> Refused:
    """The database would not store `item`: a result's step run fails for good with the
    reason (the same output would be refused again); a refused line is only answered."""
    if isinstance(item, Line):
        return Refused(f"The server could not store this {item.kind} line: {problem}")
    what = "output" if item.kind == COMPLETED else f"'{item.kind}' report"
    reason = f"The server could not store the step's {what}: {problem}"
    if item.kind in ENDING:
        failure = Report(FAILED, item.step_run_id, item.attempt, error=reason, retryable=False)
        apply_reports(tenant_id, worker_id, [failure])
    return Refused(reason)


def apply_one(tenant_id: UUID, worker_id: UUID, report: Report) -> bool:
    [outcome] = apply_reports(tenant_id, worker_id, [report])
    if outcome is None:
        raise NotFound("Unknown step run.", {"step_run_id": str(report.step_run_id)})
    return outcome


def record_step_started(tenant_id: UUID, step_run_id: UUID, attempt: int, worker_id: UUID) -> bool:
    return apply_one(tenant_id, worker_id, Report(STARTED, step_run_id, attempt))


def record_step_completed(
    tenant_id: UUID,
    step_run_id: UUID,
    attempt: int,
    worker_id: UUID,
    output: Any,
    playground: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> bool:
    report = Report(COMPLETED, step_run_id, attempt, output, playground or [], usage)
    return apply_one(tenant_id, worker_id, report)


def record_step_failed(
    tenant_id: UUID,
    step_run_id: UUID,
    attempt: int,
    worker_id: UUID,
    error: str,
    traceback: str = "",
    *,
    retryable: bool = True,
    handed_back: bool = False,
) -> bool:
    report = Report(
        FAILED,
        step_run_id,
        attempt,
        error=error,
        traceback=traceback,
        retryable=retryable,
        handed_back=handed_back,
    )
    return apply_one(tenant_id, worker_id, report)


def refresh_step_timeout(
    tenant_id: UUID, step_run_id: UUID, attempt: int, worker_id: UUID, increment_seconds: float
) -> bool:
    """Push a running step's deadline to `increment_seconds` from now."""
    report = Report(REFRESH_TIMEOUT, step_run_id, attempt, increment_seconds=increment_seconds)
    return apply_one(tenant_id, worker_id, report)


@dataclass(frozen=True)
class Line:
    step_run_id: UUID
    attempt: int
    kind: str
    seq: int
    text: str
    level: str = ""


def append_step_run_lines(
    tenant_id: UUID, lines: Sequence[Line], worker_id: UUID | None = None
) -> list[bool | None]:
    """Store log lines and stream chunks once each and announce the new ones. For
    each: True if new, False if already stored (re-sent) or, when `worker_id` sends it,
    about an attempt that worker was not given (refused, as its results would be), None
    if the tenant has no such step run."""
    step_run_ids = {line.step_run_id for line in lines}
    run_ids = dict(
        StepRun.objects.filter(pk__in=step_run_ids, tenant_id=tenant_id).values_list(
            "id", "workflow_run_id"
        )
    )
    given = (
        None
        if worker_id is None
        else set(
            StepRunAttempt.objects.filter(
                step_run_id__in=step_run_ids, worker_id=worker_id
            ).values_list("step_run_id", "number")
        )
    )
    stored = set(
        StepRunLine.objects.filter(
            step_run_id__in=list(run_ids), seq__in={line.seq for line in lines}
        ).values_list("step_run_id", "attempt", "kind", "seq")
    )
    outcomes: list[bool | None] = []
    rows = []
    for line in lines:
        key = (line.step_run_id, line.attempt, line.kind, line.seq)
        if line.step_run_id not in run_ids:
            outcomes.append(None)
        elif key in stored or (given is not None and key[:2] not in given):
            outcomes.append(False)
        else:
            stored.add(key)
            outcomes.append(True)
            rows.append(
                StepRunLine(
                    step_run_id=line.step_run_id,
                    attempt=line.attempt,
                    kind=line.kind,
                    seq=line.seq,
                    text=line.text,
                    level=line.level,
                )
            )
    if rows:
        effects = Effects()
        with transaction.atomic():
            # A concurrent copy of the same line (a re-send racing its original) is
            # dropped by the unique key.
            StepRunLine.objects.bulk_create(rows, ignore_conflicts=True)
            for row in rows:
                effects.line(run_ids[row.step_run_id], row.as_message())
            effects.announce()
    return outcomes


def append_step_run_line(
    tenant_id: UUID,
    step_run_id: UUID,
    attempt: int,
    kind: str,
    seq: int,
    text: str,
    level: str = "",
) -> bool:
    [outcome] = append_step_run_lines(
        tenant_id, [Line(step_run_id, attempt, kind, seq, text, level)]
    )
    if outcome is None:
        raise NotFound("Unknown step run.", {"step_run_id": str(step_run_id)})
    return outcome
