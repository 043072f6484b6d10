"""The state machine of step runs and workflow runs, on runs held by LockedRuns.

Each function changes the loaded objects, marks them for the flush and records what
to announce after commit; none of them queries the database.
"""

from datetime import datetime, timedelta

from django.conf import settings

from workflows.engine.dag import children_of
from workflows.engine.locked import LockedRuns
from workflows.models import (
    DEFAULT_PRIORITY,
    STEP_RUN_HELD,
    STEP_RUN_TERMINAL,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)


def queue_step_run(
    step_run: StepRun,
    now: datetime,
    available_at: datetime | None = None,
    *,
    waiting_since: datetime | None = None,
) -> None:
    """Make a step run claimable at `available_at` (now by default), ranked as if it
    had been waiting since `waiting_since` (a run held back until now) or then."""
    available_at = available_at or now
    step_run.status = StepRunStatus.QUEUED
    step_run.worker_id = None
    step_run.queued_at = now
    step_run.available_at = available_at
    head_start = (step_run.priority - DEFAULT_PRIORITY) * settings.HATCHET_PRIORITY_AGING
    step_run.ranked_at = (waiting_since or available_at) - timedelta(seconds=head_start)
    step_run.deadline = available_at + timedelta(seconds=step_run.step.schedule_timeout_seconds)


def queue_locked_step_run(
    locked: LockedRuns,
    step_run: StepRun,
    *,
    available_at: datetime | None = None,
    waiting_since: datetime | None = None,
) -> None:
    """queue_step_run on a loaded step run, marked for the flush and announced."""
    queue_step_run(step_run, locked.now, available_at, waiting_since=waiting_since)
    locked.changed(step_run)
    locked.effects.queued(step_run)
    locked.effects.step_changed(step_run)


def close_attempt(
    locked: LockedRuns, step_run: StepRun, status: str, error: str = "", traceback: str = ""
) -> None:
    attempt = locked.attempt_of(step_run)
    if attempt is not None:
        attempt.status = status
        attempt.finished_at = locked.now
        attempt.error = error
        attempt.traceback = traceback
        locked.changed(attempt)


def finish_step_run(locked: LockedRuns, step_run: StepRun, status: str, error: str = "") -> None:
    if step_run.status == StepRunStatus.WAITING:
        locked.ended_waiting.add(step_run.pk)
    step_run.status = status
    step_run.finished_at = locked.now
    step_run.deadline = None
    step_run.error = error
    locked.changed(step_run)
    locked.effects.step_changed(step_run)
    locked.effects.step_run_finished(step_run)


def suspend_step_run(locked: LockedRuns, step_run: StepRun) -> None:
    """A durable step waits: its attempt ends WAITING and its worker's slot is free."""
    close_attempt(locked, step_run, StepRunStatus.WAITING)
    step_run.status = StepRunStatus.WAITING
    step_run.worker_id = None
    step_run.deadline = None
    locked.changed(step_run)
    locked.effects.step_changed(step_run)


def start_step_run(locked: LockedRuns, step_run: StepRun, at: datetime | None = None) -> None:
    """The worker began the attempt, `at` by its clock (taken within the time the attempt
    was assigned and now, whatever the worker's clock says), else now."""
    now = locked.now
    attempt = locked.attempt_of(step_run)
    began = now
    if at is not None and attempt is not None:
        began = min(max(at, attempt.assigned_at), now)
    step_run.status = StepRunStatus.RUNNING
    step_run.started_at = step_run.started_at or began
    step_run.deadline = now + timedelta(seconds=step_run.step.timeout_seconds)
    if attempt is not None:
        attempt.status = StepRunStatus.RUNNING
        attempt.started_at = began
        locked.changed(attempt)
    locked.changed(step_run)
    locked.effects.step_changed(step_run)
    start_run(locked, locked.run_of(step_run))


def release_run(locked: LockedRuns, run: WorkflowRun) -> None:
    """A waiting run goes on: the steps whose parents all succeeded (the roots, or those
    after a replay's reused steps) are queued, ranked from when the run was created, so
    that the runs released together keep their order and go ahead of newer ones."""
    run.waiting_for = ""
    run.deadline = run.version.run_deadline(locked.now)
    locked.changed(run)
    step_runs = locked.step_runs_of[run.pk]
    succeeded = {s.step.name for s in step_runs if s.status == StepRunStatus.SUCCEEDED}
    for step_run in step_runs:
        if (
            step_run.status == StepRunStatus.PENDING
            and not step_run.step.is_on_failure
            and set(step_run.step.parents) <= succeeded
        ):
            queue_locked_step_run(locked, step_run, waiting_since=run.created_at)


def start_run(locked: LockedRuns, run: WorkflowRun) -> None:
    if run.status == WorkflowRunStatus.PENDING:
        run.status = WorkflowRunStatus.RUNNING
        run.started_at = locked.now
        locked.changed(run)
        locked.effects.run_changed(run)
        locked.effects.run_started(run)


def failure_handler(locked: LockedRuns, run: WorkflowRun) -> StepRun | None:
    """The run's on-failure step run, if its workflow has one."""
    return next((s for s in locked.step_runs_of[run.pk] if s.step.is_on_failure), None)


def stop_open_step_runs(
    locked: LockedRuns, run: WorkflowRun, reason: str, keep: StepRun | None = None
) -> None:
    """Cancel every step run of `run` not yet finished (but `keep`); held ones are told
    to stop."""
    for step_run in locked.step_runs_of[run.pk]:
        if step_run.status in STEP_RUN_TERMINAL or step_run is keep:
            continue
        if step_run.status in STEP_RUN_HELD:
            close_attempt(locked, step_run, StepRunStatus.CANCELLED, error=f"stopped: {reason}")
            locked.effects.stop(step_run, reason)
        finish_step_run(locked, step_run, StepRunStatus.CANCELLED, error=reason)


def finish_run(locked: LockedRuns, run: WorkflowRun, status: str, error: str = "") -> None:
    if run.concurrency_key and not run.waiting_for:
        locked.freed_keys.add((run.tenant_id, run.concurrency_key))
    if status == WorkflowRunStatus.CANCELLED:
        locked.cancelled_runs.add(run.pk)
    run.status = status
    run.waiting_for = ""
    run.finished_at = locked.now
    run.error = error
    run.deadline = None
    locked.changed(run)
    locked.effects.run_changed(run)
    locked.effects.run_finished(run)


def fail_run(locked: LockedRuns, run: WorkflowRun, error: str, reason: str = "cancelled") -> None:
    """A step failed for good (or the run timed out): the other step runs stop and the
    run fails; with an on-failure step not yet run, the run keeps the error and waits
    for that step first (with no run deadline: the step has its own)."""
    handler = failure_handler(locked, run)
    if handler is not None and handler.status == StepRunStatus.PENDING:
        stop_open_step_runs(locked, run, reason, keep=handler)
        queue_locked_step_run(locked, handler)
        start_run(locked, run)
        run.error = error
        run.deadline = None
        locked.changed(run)
        return
    if handler is not None and run.error:
        # The on-failure step failed too, or the run timed out while it ran.
        error = f"{run.error} (then: {error})"
    stop_open_step_runs(locked, run, reason)
    finish_run(locked, run, WorkflowRunStatus.FAILED, error=error)


def cancel_run(locked: LockedRuns, run: WorkflowRun, error: str = "Cancelled.") -> None:
    if not run.is_terminal:
        stop_open_step_runs(locked, run, "cancelled")
        finish_run(locked, run, WorkflowRunStatus.CANCELLED, error=error)


def retry_run(locked: LockedRuns, run: WorkflowRun) -> None:
    """Run a failed or cancelled run again in place: its unfinished steps get a fresh
    retry budget, those whose parents all succeeded are queued and the rest wait for
    them; succeeded steps keep their outputs."""
    step_runs = locked.step_runs_of[run.pk]
    succeeded = {s.step.name for s in step_runs if s.status == StepRunStatus.SUCCEEDED}
    for step_run in step_runs:
        is_handler = step_run.step.is_on_failure
        if step_run.status == StepRunStatus.SUCCEEDED and not is_handler:
            continue
        step_run.retry_count = step_run.requeue_count = 0
        step_run.error = ""
        step_run.output = None
        step_run.started_at = step_run.finished_at = None
        if not is_handler and set(step_run.step.parents) <= succeeded:
            queue_step_run(step_run, locked.now)
            locked.effects.queued(step_run)
        else:
            step_run.status = StepRunStatus.PENDING
            step_run.deadline = None
        locked.changed(step_run)
        locked.effects.step_changed(step_run)
    run.status = WorkflowRunStatus.RUNNING
    run.finished_at = None
    run.error = ""
    run.deadline = run.version.run_deadline(locked.now)
    locked.changed(run)
    locked.effects.run_changed(run)


def succeed_step_run(locked: LockedRuns, step_run: StepRun) -> None:
    """Record success, queue the children whose parents have all succeeded (in this same
    transaction), and finish the run when every step has succeeded."""
    close_attempt(locked, step_run, StepRunStatus.SUCCEEDED)
    finish_step_run(locked, step_run, StepRunStatus.SUCCEEDED)
    locked.effects.succeeded(step_run)
    run = locked.run_of(step_run)
    if step_run.step.is_on_failure:
        # It ran because a step failed: now the run fails as that step did.
        finish_run(locked, run, WorkflowRunStatus.FAILED, error=run.error)
        return
    siblings = locked.step_runs_of[run.pk]
    by_name = {sibling.step.name: sibling for sibling in siblings}
    parents = {name: sibling.step.parents for name, sibling in by_name.items()}
    for child in children_of(parents)[step_run.step.name]:
        child_run = by_name[child]
        if child_run.status == StepRunStatus.PENDING and all(
            by_name[parent].status == StepRunStatus.SUCCEEDED for parent in parents[child]
        ):
            queue_locked_step_run(locked, child_run)
    handler = failure_handler(locked, run)
    if all(s.status == StepRunStatus.SUCCEEDED for s in siblings if s is not handler):
        if handler is not None:
            finish_step_run(locked, handler, StepRunStatus.CANCELLED, error="no step failed")
        finish_run(locked, run, WorkflowRunStatus.SUCCEEDED)


def end_failed_attempt(
    locked: LockedRuns,
    step_run: StepRun,
    *,
    attempt_status: str,
    error: str,
    traceback: str = "",
    retryable: bool = True,
) -> None:
    """An attempt failed or timed out: retry after backoff if retries are left, else
    the step run ends with the attempt's status and the run fails."""
    close_attempt(locked, step_run, attempt_status, error=error, traceback=traceback)
    if retryable and step_run.retry_count < step_run.step.retries:
        step_run.retry_count += 1
        backoff = step_run.step.backoff_after(step_run.retry_count)
        step_run.error = error
        queue_locked_step_run(locked, step_run, available_at=locked.now + backoff)
        return
    finish_step_run(locked, step_run, attempt_status, error=error)
    outcome = attempt_status.lower().replace("_", " ")
    fail_run(locked, locked.run_of(step_run), f"Step '{step_run.step.name}' {outcome}: {error}")


def requeue_held_step_run(
    locked: LockedRuns, step_run: StepRun, reason: str, *, counts: bool = True
) -> None:
    """Give a held step run back to the queue because its worker lost it; this spends
    no retry, but a step that loses its worker too often fails."""
    close_attempt(locked, step_run, StepRunStatus.FAILED, error=reason)
    locked.effects.stop(step_run, reason)
    if counts:
        step_run.requeue_count += 1
    if step_run.requeue_count > settings.HATCHET_MAX_REQUEUES:
        finish_step_run(locked, step_run, StepRunStatus.FAILED, f"{reason} (requeued too often)")
        fail_run(
            locked,
            locked.run_of(step_run),
            f"Step '{step_run.step.name}' lost its worker too often: {reason}",
        )
        return
    queue_locked_step_run(locked, step_run)


def time_out_running_step_run(locked: LockedRuns, step_run: StepRun) -> None:
    """The attempt ran past its deadline: the worker is told to stop; retried if allowed."""
    locked.effects.stop(step_run, "timed_out")
    end_failed_attempt(
        locked,
        step_run,
        attempt_status=StepRunStatus.TIMED_OUT,
        error=f"timed out after {step_run.step.timeout_seconds:g}s",
    )


def time_out_queued_step_run(locked: LockedRuns, step_run: StepRun) -> None:
    """Queued past its schedule timeout: no worker took it in time."""
    error = (
        f"not assigned to a worker within {step_run.step.schedule_timeout_seconds:g}s "
        "(schedule timeout)"
    )
    end_queued_step_run(locked, step_run, StepRunStatus.TIMED_OUT, error)


def end_queued_step_run(locked: LockedRuns, step_run: StepRun, status: str, error: str) -> None:
    """A queued step run that will never be assigned ends, and its run fails."""
    finish_step_run(locked, step_run, status, error=error)
    ended = "timed out" if status == StepRunStatus.TIMED_OUT else "failed"
    fail_run(locked, locked.run_of(step_run), f"Step '{step_run.step.name}' {ended}: {error}")


def is_past_deadline(step_run: StepRun, now: datetime) -> bool:
    return (
        step_run.status == StepRunStatus.RUNNING
        and step_run.deadline is not None
        and step_run.deadline < now
    )
