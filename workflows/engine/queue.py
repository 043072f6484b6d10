"""Claiming queued step runs for a worker with free slots: the dispatch hot path."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.models import STEP_RUN_HELD, StepRun, StepRunAttempt, StepRunStatus


@dataclass(frozen=True)
class Assignment:
    step_run_id: UUID
    workflow_run_id: UUID
    attempt: int
    retry_count: int
    action: str
    workflow: str
    step: str
    input: Any
    parents: dict[str, Any]
    overrides: dict[str, Any]
    timeout_seconds: float
    metadata: dict[str, Any]

    def as_message(self) -> dict[str, Any]:
        return {
            "type": "step.assign",
            "step_run_id": str(self.step_run_id),
            "workflow_run_id": str(self.workflow_run_id),
            "attempt": self.attempt,
            "retry_count": self.retry_count,
            "action": self.action,
            "workflow": self.workflow,
            "step": self.step,
            "input": self.input,
            "parents": self.parents,
            "overrides": self.overrides,
            "timeout_seconds": self.timeout_seconds,
            "metadata": self.metadata,
        }


def lock_worker_slots(worker_id: UUID) -> None:
    """Serialise claims for one worker so two claimers never both fill its last slot.
    SQLite needs nothing: its IMMEDIATE transactions already run one at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [worker_id.int >> 65])


def count_held_step_runs(worker_id: UUID) -> int:
    return StepRun.objects.filter(worker_id=worker_id, status__in=STEP_RUN_HELD).count()


def claim_queued_step_runs(
    *,
    tenant_id: Any,
    worker_id: UUID,
    worker_name: str,
    actions: Sequence[str],
    slots: int,
) -> list[Assignment]:
    """Assign to the worker as many claimable step runs of its actions as it has free
    slots, oldest first; other claimers skip the rows this one has locked."""
    if not actions:
        return []
    effects = Effects()
    with transaction.atomic():
        lock_worker_slots(worker_id)
        free = slots - count_held_step_runs(worker_id)
        if free <= 0:
            return []
        now = timezone.now()
        ids = list(
            StepRun.objects.select_for_update(skip_locked=True)
            .filter(
                tenant_id=tenant_id,
                status=StepRunStatus.QUEUED,
                action__in=list(actions),
                available_at__lte=now,
            )
            .order_by("available_at")
            .values_list("id", flat=True)[:free]
        )
        if not ids:
            return []
        StepRun.objects.filter(pk__in=ids).update(
            status=StepRunStatus.ASSIGNED,
            worker_id=worker_id,
            attempt=F("attempt") + 1,
            deadline=now + timedelta(seconds=settings.HATCHET_ASSIGN_START_TIMEOUT),
        )
        step_runs = list(
            StepRun.objects.filter(pk__in=ids)
            .select_related("step", "workflow_run", "workflow_run__workflow")
            .order_by("available_at")
        )
        StepRunAttempt.objects.bulk_create(
            StepRunAttempt(
                step_run=step_run,
                number=step_run.attempt,
                status=StepRunStatus.ASSIGNED,
                worker_id=worker_id,
                worker_name=worker_name,
                assigned_at=now,
            )
            for step_run in step_runs
        )
        outputs = parent_outputs(step_runs)
        for step_run in step_runs:
            effects.step_changed(step_run)
        effects.announce()
    return [
        Assignment(
            step_run_id=step_run.id,
            workflow_run_id=step_run.workflow_run_id,
            attempt=step_run.attempt,
            retry_count=step_run.retry_count,
            action=step_run.action,
            workflow=step_run.workflow_run.workflow.name,
            step=step_run.step.name,
            input=step_run.workflow_run.input,
            parents={
                name: outputs.get((step_run.workflow_run_id, name))
                for name in step_run.step.parents
            },
            overrides=step_run.workflow_run.overrides.get(step_run.step.name, {}),
            timeout_seconds=step_run.step.timeout_seconds,
            metadata=step_run.workflow_run.additional_metadata,
        )
        for step_run in step_runs
    ]


def parent_outputs(step_runs: list[StepRun]) -> dict[tuple[UUID, str], Any]:
    wanted_runs = {s.workflow_run_id for s in step_runs if s.step.parents}
    if not wanted_runs:
        return {}
    rows = StepRun.objects.filter(
        workflow_run_id__in=wanted_runs, status=StepRunStatus.SUCCEEDED
    ).values_list("workflow_run_id", "step__name", "output")
    return {(run_id, name): output for run_id, name, output in rows}
