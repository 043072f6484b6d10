"""Periodic engine work: deadlines passed and step runs whose workers went away.

Each function is safe to run on many nodes at once: rows are claimed with SKIP
LOCKED and re-checked under lock, so a step run is handled by exactly one of them.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.engine.transitions import (
    fail_run,
    finish_step_run,
    requeue_held_step_run,
    time_out_running_step_run,
)
from workflows.models import (
    STEP_RUN_HELD,
    WORKFLOW_RUN_TERMINAL,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

BATCH = 200


def for_each_locked(candidates: QuerySet[StepRun], handle: Any) -> int:
    """Run `handle(run, step_run, effects)` on each candidate in its own transaction,
    with the run then the step run locked, if the candidate still matches."""
    handled = 0
    for step_run_id, run_id in candidates.values_list("id", "workflow_run_id")[:BATCH]:
        effects = Effects()
        with transaction.atomic():
            run = WorkflowRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
            if run is None:
                continue
            step_run = (
                candidates.select_for_update(skip_locked=True)
                .select_related("step")
                .filter(pk=step_run_id)
                .first()
            )
            if step_run is None:
                continue
            handle(run, step_run, effects)
            effects.announce()
            handled += 1
    return handled


def time_out_running_step_runs(now: datetime) -> int:
    """Running past their deadline: the worker is told to stop; retried if allowed."""

    def time_out(run: WorkflowRun, step_run: StepRun, effects: Effects) -> None:
        time_out_running_step_run(run, step_run, now, effects)

    return for_each_locked(
        StepRun.objects.filter(status=StepRunStatus.RUNNING, deadline__lt=now), time_out
    )


def time_out_queued_step_runs(now: datetime) -> int:
    """Queued longer than their schedule timeout: no worker took them in time."""

    def time_out(run: WorkflowRun, step_run: StepRun, effects: Effects) -> None:
        error = (
            f"not assigned to a worker within {step_run.step.schedule_timeout_seconds:g}s "
            "(schedule timeout)"
        )
        finish_step_run(step_run, StepRunStatus.TIMED_OUT, now, error=error)
        step_run.save(update_fields=["status", "finished_at", "deadline", "error"])
        effects.step_changed(step_run)
        fail_run(run, now, f"Step '{step_run.step.name}' timed out: {error}", effects)

    return for_each_locked(
        StepRun.objects.filter(status=StepRunStatus.QUEUED, deadline__lt=now), time_out
    )


def requeue_unstarted_assignments(now: datetime) -> int:
    """Assigned but never started in time: the worker may never have received it."""

    def requeue(run: WorkflowRun, step_run: StepRun, effects: Effects) -> None:
        requeue_held_step_run(run, step_run, now, effects, "assignment not started in time")

    return for_each_locked(
        StepRun.objects.filter(status=StepRunStatus.ASSIGNED, deadline__lt=now), requeue
    )


def requeue_step_runs_of_workers(worker_ids: Iterable[UUID], reason: str) -> int:
    """The workers are gone: what they held goes back to the queue."""
    now = timezone.now()

    def requeue(run: WorkflowRun, step_run: StepRun, effects: Effects) -> None:
        requeue_held_step_run(run, step_run, now, effects, reason)

    return for_each_locked(
        StepRun.objects.filter(worker_id__in=list(worker_ids), status__in=STEP_RUN_HELD), requeue
    )


def time_out_workflow_runs(now: datetime) -> int:
    handled = 0
    for run_id in WorkflowRun.objects.filter(
        deadline__lt=now, status__in=[WorkflowRunStatus.PENDING, WorkflowRunStatus.RUNNING]
    ).values_list("id", flat=True)[:BATCH]:
        effects = Effects()
        with transaction.atomic():
            run = (
                WorkflowRun.objects.select_for_update(skip_locked=True)
                .select_related("version")
                .filter(pk=run_id)
                .exclude(status__in=WORKFLOW_RUN_TERMINAL)
                .first()
            )
            if run is None:
                continue
            timeout = run.version.timeout_seconds or 0
            fail_run(run, now, f"Workflow run timed out after {timeout:g}s.", effects, "timed_out")
            effects.announce()
            handled += 1
    return handled


def run_deadlines(now: datetime | None = None) -> dict[str, int]:
    """One pass over every kind of passed deadline; returns how many of each."""
    now = now or timezone.now()
    return {
        "running_timed_out": time_out_running_step_runs(now),
        "queued_timed_out": time_out_queued_step_runs(now),
        "unstarted_requeued": requeue_unstarted_assignments(now),
        "workflow_runs_timed_out": time_out_workflow_runs(now),
    }
