"""What workers report about the step runs they hold. Each report is applied at most
once: it names the attempt, and is ignored (returns False) once the step run has
moved past that attempt or state."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.engine.errors import NotFound
from workflows.engine.transitions import (
    close_attempt,
    end_failed_attempt,
    finish_step_run,
    is_past_deadline,
    queue_ready_children,
    requeue_held_step_run,
    start_run,
    time_out_running_step_run,
)
from workflows.models import (
    STEP_RUN_HELD,
    StepRun,
    StepRunAttempt,
    StepRunLine,
    StepRunStatus,
    WorkflowRun,
)


@dataclass
class Held:
    run: WorkflowRun
    step_run: StepRun


@contextmanager
def held_step_run(
    tenant_id: Any, step_run_id: Any, attempt: int, worker_id: UUID | None, effects: Effects
) -> Iterator[Held | None]:
    """Lock the run and the step run (in that order) for a worker's report. Yields None
    when the report is stale; raises NotFound for ids the tenant does not have."""
    ids = StepRun.objects.filter(pk=step_run_id, tenant_id=tenant_id).values_list(
        "workflow_run_id", flat=True
    )
    workflow_run_id = ids.first()
    if workflow_run_id is None:
        raise NotFound("Unknown step run.", {"step_run_id": str(step_run_id)})
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=workflow_run_id)
        step_run = StepRun.objects.select_for_update().select_related("step").get(pk=step_run_id)
        is_current = (
            step_run.attempt == attempt
            and step_run.status in STEP_RUN_HELD
            and (worker_id is None or step_run.worker_id == worker_id)
        )
        yield Held(run, step_run) if is_current else None
        effects.announce()


def record_step_started(tenant_id: Any, step_run_id: Any, attempt: int, worker_id: UUID) -> bool:
    effects = Effects()
    with held_step_run(tenant_id, step_run_id, attempt, worker_id, effects) as held:
        if held is None or held.step_run.status != StepRunStatus.ASSIGNED:
            return False
        now = timezone.now()
        step_run = held.step_run
        step_run.status = StepRunStatus.RUNNING
        step_run.started_at = step_run.started_at or now
        step_run.deadline = now + timedelta(seconds=step_run.step.timeout_seconds)
        step_run.save(update_fields=["status", "started_at", "deadline"])
        StepRunAttempt.objects.filter(step_run=step_run, number=attempt).update(
            status=StepRunStatus.RUNNING, started_at=now
        )
        start_run(held.run, now, effects)
        effects.step_changed(step_run)
    return True


def record_step_completed(
    tenant_id: Any,
    step_run_id: Any,
    attempt: int,
    worker_id: UUID,
    output: Any,
    playground: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> bool:
    effects = Effects()
    with held_step_run(tenant_id, step_run_id, attempt, worker_id, effects) as held:
        if held is None:
            return False
        now = timezone.now()
        step_run = held.step_run
        if is_past_deadline(step_run, now):
            # The deadline, not the tick that notices it, decides: a late result loses.
            time_out_running_step_run(held.run, step_run, now, effects)
            return True
        start_run(held.run, now, effects)
        close_attempt(step_run, StepRunStatus.SUCCEEDED, now)
        finish_step_run(step_run, StepRunStatus.SUCCEEDED, now)
        step_run.output = output
        step_run.playground = playground or []
        step_run.usage = usage
        step_run.save(
            update_fields=[
                "status",
                "finished_at",
                "deadline",
                "error",
                "output",
                "playground",
                "usage",
            ]
        )
        effects.step_changed(step_run)
        queue_ready_children(held.run, step_run, now, effects)
    return True


def record_step_failed(
    tenant_id: Any,
    step_run_id: Any,
    attempt: int,
    worker_id: UUID,
    error: str,
    traceback: str = "",
    *,
    retryable: bool = True,
    handed_back: bool = False,
) -> bool:
    effects = Effects()
    with held_step_run(tenant_id, step_run_id, attempt, worker_id, effects) as held:
        if held is None:
            return False
        now = timezone.now()
        if is_past_deadline(held.step_run, now):
            time_out_running_step_run(held.run, held.step_run, now, effects)
        elif handed_back:
            requeue_held_step_run(
                held.run, held.step_run, now, effects, f"handed back: {error}", counts=False
            )
        else:
            end_failed_attempt(
                held.run,
                held.step_run,
                now,
                effects,
                attempt_status=StepRunStatus.FAILED,
                error=error,
                traceback=traceback,
                retryable=retryable,
            )
    return True


def refresh_step_timeout(
    tenant_id: Any, step_run_id: Any, attempt: int, worker_id: UUID, increment_seconds: float
) -> bool:
    """Push a running step's deadline to `increment_seconds` from now."""
    effects = Effects()
    with held_step_run(tenant_id, step_run_id, attempt, worker_id, effects) as held:
        if held is None or held.step_run.status != StepRunStatus.RUNNING:
            return False
        held.step_run.deadline = timezone.now() + timedelta(seconds=increment_seconds)
        held.step_run.save(update_fields=["deadline"])
    return True


def append_step_run_line(
    tenant_id: Any,
    step_run_id: Any,
    attempt: int,
    kind: str,
    seq: int,
    text: str,
    level: str = "",
) -> bool:
    """Store a log line or stream chunk once; a re-sent one changes nothing."""
    workflow_run_id = (
        StepRun.objects.filter(pk=step_run_id, tenant_id=tenant_id)
        .values_list("workflow_run_id", flat=True)
        .first()
    )
    if workflow_run_id is None:
        raise NotFound("Unknown step run.", {"step_run_id": str(step_run_id)})
    line = StepRunLine(
        step_run_id=step_run_id, attempt=attempt, kind=kind, seq=seq, text=text, level=level
    )
    try:
        with transaction.atomic():
            line.save(force_insert=True)
            effects = Effects()
            effects.line(workflow_run_id, line.as_message())
            effects.announce()
    except IntegrityError:
        return False
    return True
