"""Workers joining, beating, draining and going away."""

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hatchet.models import Tenant
from workers.models import WORKER_LIVE, Worker, WorkerStatus
from workflows.engine.maintenance import requeue_step_runs_of_workers
from workflows.models import HELD_STEP_RUNS, StepRun


def register_worker(
    tenant: Tenant,
    *,
    name: str,
    actions: list[str],
    slots: int,
    labels: dict[str, str],
    sdk_version: str,
    connection_id: UUID,
    node: str,
    worker_id: UUID | None = None,
) -> Worker:
    """A worker connects: resume its earlier identity when it gives one we know."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "name": name,
        "actions": actions,
        "slots": slots,
        "labels": labels,
        "sdk_version": sdk_version,
        "status": WorkerStatus.ACTIVE,
        "connection_id": connection_id,
        "node": node,
        "connected_at": now,
        "disconnected_at": None,
        "last_heartbeat_at": now,
    }
    with transaction.atomic():
        worker = None
        if worker_id is not None:
            worker = (
                Worker.objects.select_for_update()
                .filter(pk=worker_id, tenant=tenant, status__in=WORKER_LIVE)
                .first()
            )
        if worker is None:
            return Worker.objects.create(tenant=tenant, **fields)
        for field, value in fields.items():
            setattr(worker, field, value)
        worker.save(update_fields=list(fields))
        return worker


def record_heartbeat(worker_id: UUID, connection_id: UUID, *, draining: bool) -> None:
    changes: dict[str, Any] = {"last_heartbeat_at": timezone.now()}
    if draining:
        changes["status"] = WorkerStatus.DRAINING
    Worker.objects.filter(pk=worker_id, connection_id=connection_id).update(**changes)


def disconnect_worker(worker_id: UUID, connection_id: UUID) -> None:
    """The socket closed. A draining worker is gone and what it held is queued again at
    once; any other may come back, until its heartbeats are overdue."""
    with transaction.atomic():
        worker = (
            Worker.objects.select_for_update()
            .filter(pk=worker_id, connection_id=connection_id)
            .first()
        )
        if worker is None:
            return
        worker.disconnected_at = timezone.now()
        worker.connection_id = None
        was_draining = worker.status == WorkerStatus.DRAINING
        worker.status = WorkerStatus.STOPPED if was_draining else WorkerStatus.DISCONNECTED
        worker.save(update_fields=["disconnected_at", "connection_id", "status"])
    if was_draining:
        requeue_step_runs_of_workers([worker_id], "worker stopped")


def reap_dead_workers() -> int:
    """Workers silent past the timeout are stopped and their step runs queued again;
    so are step runs still held by workers already stopped."""
    cutoff = timezone.now() - timedelta(seconds=settings.HATCHET_WORKER_TIMEOUT)
    dead = list(
        Worker.objects.filter(status__in=WORKER_LIVE, last_heartbeat_at__lt=cutoff).values_list(
            "id", flat=True
        )
    )
    if dead:
        Worker.objects.filter(pk__in=dead, last_heartbeat_at__lt=cutoff).update(
            status=WorkerStatus.STOPPED, connection_id=None
        )
    orphaned = {
        worker_id
        for worker_id in StepRun.objects.filter(HELD_STEP_RUNS)
        .exclude(worker_id__in=Worker.objects.filter(status__in=WORKER_LIVE).values("id"))
        .values_list("worker_id", flat=True)
        if worker_id is not None
    }
    if not orphaned:
        return 0
    return requeue_step_runs_of_workers(orphaned, "worker stopped sending heartbeats")


def workers_with_slots(tenant: Tenant) -> QuerySet[Worker]:
    """Workers of the tenant annotated with `used_slots`: the step runs they hold."""
    held = (
        StepRun.objects.filter(HELD_STEP_RUNS, worker_id=OuterRef("pk"))
        .order_by()
        .values("worker_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Worker.objects.filter(tenant=tenant).annotate(
        used_slots=Coalesce(Subquery(held, output_field=IntegerField()), Value(0))
    )
