"""Periodic engine work: deadlines passed and step runs whose workers went away.

Each function is safe to run on many nodes at once: candidate runs are locked with
SKIP LOCKED and every candidate is checked again under the lock, so a step run is
handled by exactly one of them.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from workflows.engine.locked import LockedRuns
from workflows.engine.transitions import (
    end_queued_step_run,
    fail_run,
    requeue_held_step_run,
    time_out_queued_step_run,
    time_out_running_step_run,
)
from workflows.models import (
    HELD_STEP_RUNS,
    STEP_RUN_HELD,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

BATCH = 200


def handle_locked(
    candidates: Q,
    still_matches: Callable[[StepRun], bool],
    handle: Callable[[LockedRuns, StepRun], None],
) -> int:
    """Lock the runs of up to BATCH candidate step runs, and handle each candidate that
    still matches under the lock; one transaction."""
    step_run_ids = list(StepRun.objects.filter(candidates).values_list("id", flat=True)[:BATCH])
    if not step_run_ids:
        return 0
    run_ids = StepRun.objects.filter(pk__in=step_run_ids).values_list("workflow_run_id", flat=True)
    handled = 0
    with transaction.atomic():
        locked = LockedRuns(set(run_ids), skip_locked=True)
        for step_run_id in step_run_ids:
            step_run = locked.step_runs.get(step_run_id)
            if step_run is not None and still_matches(step_run):
                handle(locked, step_run)
                handled += 1
        locked.flush()
    return handled


def time_out_running_step_runs(now: datetime) -> int:
    """Running past their deadline: the worker is told to stop; retried if allowed."""
    return handle_locked(
        Q(status=StepRunStatus.RUNNING, deadline__lt=now),
        lambda s: s.status == StepRunStatus.RUNNING and s.deadline is not None and s.deadline < now,
        time_out_running_step_run,
    )


def time_out_queued_step_runs(now: datetime) -> int:
    """Queued longer than their schedule timeout: no worker took them in time."""
    return handle_locked(
        Q(status=StepRunStatus.QUEUED, deadline__lt=now),
        lambda s: s.status == StepRunStatus.QUEUED and s.deadline is not None and s.deadline < now,
        time_out_queued_step_run,
    )


def fail_queued_step_runs(errors: Mapping[UUID, str]) -> int:
    """Queued step runs that can never run (rate_limits.UnusableUnits): failed, with
    their errors."""
    return handle_locked(
        Q(pk__in=list(errors), status=StepRunStatus.QUEUED),
        lambda s: s.status == StepRunStatus.QUEUED,
        lambda locked, s: end_queued_step_run(locked, s, StepRunStatus.FAILED, errors[s.id]),
    )


class Heard(NamedTuple):
    """A live worker's contact: since when its current connection is open, and when it
    was last heard on it."""

    connected_at: datetime
    last_at: datetime


def requeue_unstarted_assignments(now: datetime, workers: Mapping[UUID, Heard]) -> int:
    """Assigned but never started in time by a worker that could have said so: heard
    after the start deadline on a connection open since before it (or for a whole start
    timeout), so any start it had to report, re-sent from its outbox, would be in. It
    never received the assignment. A worker not heard from may have started it and be
    unable to say so (its server is down): its liveness decides, not this deadline."""
    start_timeout = timedelta(seconds=settings.HATCHET_ASSIGN_START_TIMEOUT)

    def unstarted(step_run: StepRun) -> bool:
        heard = workers.get(step_run.worker_id) if step_run.worker_id else None
        deadline = step_run.deadline
        return (
            step_run.status == StepRunStatus.ASSIGNED
            and deadline is not None
            and heard is not None
            and deadline < min(now, heard.last_at)
            and heard.connected_at <= max(deadline, now - start_timeout)
        )

    return handle_locked(
        Q(status=StepRunStatus.ASSIGNED, deadline__lt=now, worker_id__in=list(workers)),
        unstarted,
        lambda locked, s: requeue_held_step_run(locked, s, "assignment not started in time"),
    )


def requeue_step_runs_of_workers(worker_ids: Iterable[UUID], reason: str) -> int:
    """The workers are gone: what they held goes back to the queue."""
    worker_ids = set(worker_ids)
    return handle_locked(
        HELD_STEP_RUNS & Q(worker_id__in=worker_ids),
        lambda s: s.worker_id in worker_ids and s.status in STEP_RUN_HELD,
        lambda locked, s: requeue_held_step_run(locked, s, reason),
    )


def time_out_workflow_runs(now: datetime) -> int:
    open_statuses = [WorkflowRunStatus.PENDING, WorkflowRunStatus.RUNNING]
    run_ids = list(
        WorkflowRun.objects.filter(deadline__lt=now, status__in=open_statuses).values_list(
            "id", flat=True
        )[:BATCH]
    )
    if not run_ids:
        return 0
    handled = 0
    with transaction.atomic():
        locked = LockedRuns(run_ids, skip_locked=True)
        for run in locked.runs.values():
            if run.status in open_statuses and run.deadline is not None and run.deadline < now:
                timeout = run.version.timeout_seconds or 0
                fail_run(locked, run, f"Workflow run timed out after {timeout:g}s.", "timed_out")
                handled += 1
        locked.flush()
    return handled


def run_deadlines(now: datetime | None = None) -> dict[str, int]:
    """One pass over the passed deadlines of steps and runs; returns how many of each.
    Assignments never started are a matter of worker liveness: see
    requeue_unstarted_assignments."""
    now = now or timezone.now()
    return {
        "running_timed_out": time_out_running_step_runs(now),
        "queued_timed_out": time_out_queued_step_runs(now),
        "workflow_runs_timed_out": time_out_workflow_runs(now),
    }
