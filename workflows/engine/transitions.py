"""The state machine of step runs and workflow runs, used inside engine transactions.

Callers lock the workflow run before its step runs (always in that order) and pass
an Effects that collects what to announce after commit.
"""

from datetime import datetime, timedelta

from django.conf import settings

from workflows.engine.dag import children_of
from workflows.engine.effects import Effects
from workflows.models import (
    STEP_RUN_HELD,
    STEP_RUN_TERMINAL,
    StepRun,
    StepRunAttempt,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)


def queue_step_run(step_run: StepRun, now: datetime, available_at: datetime | None = None) -> None:
    """Make a step run claimable at `available_at` (now by default); not saved here."""
    available_at = available_at or now
    step_run.status = StepRunStatus.QUEUED
    step_run.worker_id = None
    step_run.queued_at = now
    step_run.available_at = available_at
    step_run.deadline = available_at + timedelta(seconds=step_run.step.schedule_timeout_seconds)


def close_attempt(
    step_run: StepRun, status: str, now: datetime, error: str = "", traceback: str = ""
) -> None:
    StepRunAttempt.objects.filter(step_run=step_run, number=step_run.attempt).update(
        status=status, finished_at=now, error=error, traceback=traceback
    )


def finish_step_run(step_run: StepRun, status: str, now: datetime, error: str = "") -> None:
    step_run.status = status
    step_run.finished_at = now
    step_run.deadline = None
    step_run.error = error


def start_run(run: WorkflowRun, now: datetime, effects: Effects) -> None:
    if run.status == WorkflowRunStatus.PENDING:
        run.status = WorkflowRunStatus.RUNNING
        run.started_at = now
        run.save(update_fields=["status", "started_at"])
        effects.run_changed(run)


def stop_open_step_runs(
    run: WorkflowRun, now: datetime, reason: str, effects: Effects, exclude: StepRun | None = None
) -> None:
    """Cancel every step run of `run` not yet finished; held ones are told to stop."""
    open_step_runs = run.step_runs.select_for_update().exclude(status__in=STEP_RUN_TERMINAL)
    if exclude is not None:
        open_step_runs = open_step_runs.exclude(pk=exclude.pk)
    for step_run in open_step_runs:
        if step_run.status in STEP_RUN_HELD:
            close_attempt(step_run, StepRunStatus.CANCELLED, now, error=f"stopped: {reason}")
            effects.stop(step_run, reason)
        finish_step_run(step_run, StepRunStatus.CANCELLED, now, error=reason)
        step_run.save(update_fields=["status", "finished_at", "deadline", "error"])
        effects.step_changed(step_run)


def finish_run(
    run: WorkflowRun, status: str, now: datetime, effects: Effects, error: str = ""
) -> None:
    run.status = status
    run.finished_at = now
    run.error = error
    run.deadline = None
    run.save(update_fields=["status", "finished_at", "error", "deadline"])
    effects.run_changed(run)


def fail_run(
    run: WorkflowRun, now: datetime, error: str, effects: Effects, reason: str = "cancelled"
) -> None:
    stop_open_step_runs(run, now, reason, effects)
    finish_run(run, WorkflowRunStatus.FAILED, now, effects, error=error)


def queue_ready_children(
    run: WorkflowRun, step_run: StepRun, now: datetime, effects: Effects
) -> None:
    """Queue the children of a succeeded step whose parents have all succeeded; finish
    the run when every step has."""
    siblings = list(run.step_runs.select_related("step"))
    status_by_step = {sibling.step.name: sibling.status for sibling in siblings}
    status_by_step[step_run.step.name] = step_run.status
    parents = {sibling.step.name: sibling.step.parents for sibling in siblings}
    ready_names = {
        child
        for child in children_of(parents)[step_run.step.name]
        if all(status_by_step[p] == StepRunStatus.SUCCEEDED for p in parents[child])
    }
    for sibling in siblings:
        if sibling.step.name in ready_names and sibling.status == StepRunStatus.PENDING:
            queue_step_run(sibling, now)
            sibling.save(
                update_fields=["status", "worker_id", "queued_at", "available_at", "deadline"]
            )
            effects.queued(sibling)
            effects.step_changed(sibling)
            status_by_step[sibling.step.name] = sibling.status
    if all(status == StepRunStatus.SUCCEEDED for status in status_by_step.values()):
        finish_run(run, WorkflowRunStatus.SUCCEEDED, now, effects)


def end_failed_attempt(
    run: WorkflowRun,
    step_run: StepRun,
    now: datetime,
    effects: Effects,
    *,
    attempt_status: str,
    error: str,
    traceback: str = "",
    retryable: bool = True,
) -> None:
    """An attempt failed or timed out: retry after backoff if retries are left, else
    the step run ends with the attempt's status and the run fails."""
    close_attempt(step_run, attempt_status, now, error=error, traceback=traceback)
    if retryable and step_run.retry_count < step_run.step.retries:
        step_run.retry_count += 1
        queue_step_run(
            step_run, now, available_at=now + step_run.step.backoff_after(step_run.retry_count)
        )
        step_run.error = error
        step_run.save(
            update_fields=[
                "status",
                "worker_id",
                "queued_at",
                "available_at",
                "deadline",
                "retry_count",
                "error",
            ]
        )
        effects.queued(step_run)
        effects.step_changed(step_run)
        return
    finish_step_run(step_run, attempt_status, now, error=error)
    step_run.save(update_fields=["status", "finished_at", "deadline", "error"])
    effects.step_changed(step_run)
    fail_run(
        run,
        now,
        f"Step '{step_run.step.name}' {attempt_status.lower().replace('_', ' ')}: {error}",
        effects,
    )


def requeue_held_step_run(
    run: WorkflowRun,
    step_run: StepRun,
    now: datetime,
    effects: Effects,
    reason: str,
    *,
    counts: bool = True,
) -> None:
    """Give a held step run back to the queue because its worker lost it; this spends
    no retry, but a step that loses its worker too often fails."""
    close_attempt(step_run, StepRunStatus.FAILED, now, error=reason)
    effects.stop(step_run, reason)
    if counts:
        step_run.requeue_count += 1
    if step_run.requeue_count > settings.HATCHET_MAX_REQUEUES:
        finish_step_run(step_run, StepRunStatus.FAILED, now, error=f"{reason} (requeued too often)")
        step_run.save(update_fields=["status", "finished_at", "deadline", "error", "requeue_count"])
        effects.step_changed(step_run)
        fail_run(
            run, now, f"Step '{step_run.step.name}' lost its worker too often: {reason}", effects
        )
        return
    queue_step_run(step_run, now)
    step_run.save(
        update_fields=[
            "status",
            "worker_id",
            "queued_at",
            "available_at",
            "deadline",
            "requeue_count",
        ]
    )
    effects.queued(step_run)
    effects.step_changed(step_run)


def time_out_running_step_run(
    run: WorkflowRun, step_run: StepRun, now: datetime, effects: Effects
) -> None:
    """The attempt ran past its deadline: the worker is told to stop; retried if allowed."""
    effects.stop(step_run, "timed_out")
    end_failed_attempt(
        run,
        step_run,
        now,
        effects,
        attempt_status=StepRunStatus.TIMED_OUT,
        error=f"timed out after {step_run.step.timeout_seconds:g}s",
    )


def is_past_deadline(step_run: StepRun, now: datetime) -> bool:
    return (
        step_run.status == StepRunStatus.RUNNING
        and step_run.deadline is not None
        and step_run.deadline < now
    )
