"""Workers joining, beating, draining and going away, and the server nodes that hear
them."""

import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hatchet.models import APIToken, Tenant, hash_token
from workers.dispatch import close_sockets_of
from workers.models import WORKER_LIVE, ServerNode, Worker, WorkerStatus
from workflows.engine.affinity import WorkerProfile
from workflows.engine.maintenance import (
    Heard,
    requeue_step_runs_of_workers,
    requeue_unstarted_assignments,
)
from workflows.models import HELD_STEP_RUNS, STEP_RUN_HELD, STEP_RUN_TERMINAL, StepRun
from workflows.signals import ActionServers, StepStop

# A node is up while it was seen within this share of the worker timeout (it beats
# every heartbeat interval).
NODE_SILENCE = 0.5
# A worker silent for this many worker timeouts is dead, whatever became of its server.
NODE_LOSS = 4


def register_worker(
    tenant: Tenant,
    *,
    name: str,
    actions: list[str],
    slots: int,
    labels: dict[str, Any],
    sdk_version: str,
    connection_id: UUID,
    node: str,
    worker_id: UUID | None = None,
    resume_key: str = "",
    token: APIToken | None = None,
) -> tuple[Worker, str]:
    """A worker connects: it resumes its earlier identity when it names one that is
    still live and shows that identity's resume key; any other is a new worker. Returns
    the worker and the resume key to give it (a new one for a new worker)."""
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
        "token": token,
    }
    with transaction.atomic():
        worker = None
        if worker_id is not None and resume_key:
            worker = (
                Worker.objects.select_for_update()
                .filter(
                    pk=worker_id,
                    tenant=tenant,
                    status__in=WORKER_LIVE,
                    resume_key_hash=hash_token(resume_key),
                )
                .first()
            )
        if worker is None:
            resume_key = secrets.token_urlsafe(24)
            fields["resume_key_hash"] = hash_token(resume_key)
            return Worker.objects.create(tenant=tenant, **fields), resume_key
        for field, value in fields.items():
            setattr(worker, field, value)
        worker.save(update_fields=list(fields))
        return worker, resume_key


def set_labels(worker_id: UUID, labels: dict[str, Any]) -> None:
    Worker.objects.filter(pk=worker_id).update(labels=labels)


def record_heartbeat(worker_id: UUID, connection_id: UUID, *, draining: bool) -> bool:
    """False if the socket no longer speaks for the worker: it was declared dead (its
    step runs went back to the queue) or another socket took it over."""
    changes: dict[str, Any] = {"last_heartbeat_at": timezone.now()}
    if draining:
        changes["status"] = WorkerStatus.DRAINING
    return (
        Worker.objects.filter(
            pk=worker_id, connection_id=connection_id, status__in=WORKER_LIVE
        ).update(**changes)
        == 1
    )


def stops_for_held(
    tenant_id: UUID, worker_id: UUID, held: list[tuple[UUID, int]]
) -> list[StepStop]:
    """The stop orders for the step runs a worker says it runs that it no longer holds:
    they ended, or went back to the queue, while their stop order was lost (sent while
    the worker's socket was down, or by a server whose message did not reach this one)."""
    rows = {
        row.pk: row
        for row in StepRun.objects.filter(
            pk__in={step_run_id for step_run_id, _ in held}, tenant_id=tenant_id
        ).only("status", "worker_id", "attempt")
    }
    stops = []
    for step_run_id, attempt in held:
        row = rows.get(step_run_id)
        if row is None:
            stops.append(StepStop(worker_id, step_run_id, attempt, "taken back"))
        elif row.status in STEP_RUN_TERMINAL:
            stops.append(StepStop(worker_id, step_run_id, attempt, row.status.lower()))
        elif not (
            row.status in STEP_RUN_HELD and row.worker_id == worker_id and row.attempt == attempt
        ):
            stops.append(StepStop(worker_id, step_run_id, attempt, "taken back"))
    return stops


def disconnect_worker(worker_id: UUID, connection_id: UUID) -> datetime | None:
    """The socket closed. A draining worker is gone and what it held is queued again at
    once. Any other may come back: returns when it went, for release_unless_back."""
    with transaction.atomic():
        worker = (
            Worker.objects.select_for_update()
            .filter(pk=worker_id, connection_id=connection_id)
            .first()
        )
        if worker is None:
            return None
        worker.disconnected_at = timezone.now()
        worker.connection_id = None
        was_draining = worker.status == WorkerStatus.DRAINING
        worker.status = WorkerStatus.STOPPED if was_draining else WorkerStatus.DISCONNECTED
        worker.save(update_fields=["disconnected_at", "connection_id", "status"])
    if was_draining:
        requeue_step_runs_of_workers([worker_id], "worker stopped")
        return None
    return worker.disconnected_at


def release_unless_back(worker_id: UUID, disconnected_at: datetime) -> int:
    """The worker whose socket closed at `disconnected_at` (not after a drain) has not
    come back: it is stopped and what it held goes back to the queue. A killed worker's
    steps are queued again in about a second, not after the heartbeat timeout."""
    stopped = Worker.objects.filter(
        pk=worker_id, status=WorkerStatus.DISCONNECTED, disconnected_at=disconnected_at
    ).update(status=WorkerStatus.STOPPED)
    if not stopped:
        return 0  # it came back (or the reaper was first)
    return requeue_step_runs_of_workers([worker_id], "worker's connection closed")


def silent_workers(now: datetime) -> list[UUID]:
    """Live workers silent past the worker timeout through no fault of a server's:
    - the server node that held the worker's socket is up, and heard nothing; or
    - a node that started since the worker's last heartbeat has been up for the whole
      timeout (a restarted server, which a live worker would have reached); or
    - a node that was up before the worker fell silent is still up, and the silence has
      lasted NODE_LOSS timeouts: the worker's own server is gone for good.
    A worker whose server went down is never declared dead for that silence alone."""
    timeout = timedelta(seconds=settings.HATCHET_WORKER_TIMEOUT)
    cutoff = now - timeout
    candidates = list(
        Worker.objects.filter(status__in=WORKER_LIVE, last_heartbeat_at__lt=cutoff).values_list(
            "id", "node", "last_heartbeat_at"
        )
    )
    if not candidates:
        return []
    nodes_up = list(
        ServerNode.objects.filter(seen_at__gte=now - NODE_SILENCE * timeout).values_list(
            "name", "started_at"
        )
    )
    up = {name for name, _ in nodes_up}
    # The nodes up for the whole timeout: the first and the last of them to start.
    long_up = [started for _, started in nodes_up if started <= cutoff]
    first, last = (min(long_up), max(long_up)) if long_up else (None, None)
    gone_for_good = now - NODE_LOSS * timeout
    return [
        worker_id
        for worker_id, node, heard in candidates
        if node in up
        or (last is not None and last > heard)
        or (first is not None and first < heard and heard < gone_for_good)
    ]


def reap_dead_workers(now: datetime | None = None) -> int:
    """Workers silent past the timeout (as silent_workers tells) are stopped, their
    sockets closed wherever they are, and their step runs queued again; so are step runs
    still held by workers already stopped."""
    now = now or timezone.now()
    dead = silent_workers(now)
    cutoff = now - timedelta(seconds=settings.HATCHET_WORKER_TIMEOUT)
    if dead:
        with transaction.atomic():
            # Still silent under the lock: a beat that came meanwhile saves its worker.
            stopped = list(
                Worker.objects.select_for_update()
                .filter(pk__in=dead, status__in=WORKER_LIVE, last_heartbeat_at__lt=cutoff)
                .values_list("id", flat=True)
            )
            Worker.objects.filter(pk__in=stopped).update(
                status=WorkerStatus.STOPPED, connection_id=None
            )
        close_sockets_of(stopped)
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


def check_workers(now: datetime | None = None) -> dict[str, int]:
    """Assignments that a worker heard from since never started, and workers silent past
    the timeout; safe on many nodes at once."""
    now = now or timezone.now()
    heard = {
        worker_id: Heard(connected_at, last_at)
        for worker_id, connected_at, last_at in Worker.objects.filter(
            status__in=WORKER_LIVE
        ).values_list("id", "connected_at", "last_heartbeat_at")
    }
    return {
        "unstarted_requeued": requeue_unstarted_assignments(now, heard),
        "dead_worker_step_runs_requeued": reap_dead_workers(now),
    }


def workers_with_slots(tenant: Tenant | Any) -> QuerySet[Worker]:
    """Workers of the tenant (or tenant id) annotated with `used_slots`."""
    return with_used_slots(Worker.objects.filter(tenant=tenant))


def with_used_slots(workers: QuerySet[Worker]) -> QuerySet[Worker]:
    """The workers annotated with `used_slots`: the step runs they hold."""
    held = (
        StepRun.objects.filter(HELD_STEP_RUNS, worker_id=OuterRef("pk"))
        .order_by()
        .values("worker_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return workers.annotate(
        used_slots=Coalesce(Subquery(held, output_field=IntegerField()), Value(0))
    )


def serving_workers(tenant_id: Any, actions: set[str], **_: Any) -> dict[str, ActionServers]:
    """The active workers that serve each of these actions, and their free slots (the
    engine asks, to say why a queued step waits)."""
    served: dict[str, ActionServers] = {}
    # An annotation django-stubs cannot see through workers_with_slots.
    annotated: Any = workers_with_slots(tenant_id)
    rows = annotated.filter(status=WorkerStatus.ACTIVE).values_list(
        "actions", "slots", "used_slots"
    )
    for worker_actions, slots, used_slots in rows:
        free = max(slots - used_slots, 0)
        for action in actions.intersection(worker_actions):
            known = served.get(action, ActionServers(0, 0))
            served[action] = ActionServers(known.workers + 1, known.free_slots + free)
    return served


def live_worker_profiles(tenant_id: Any, **_: Any) -> list[WorkerProfile]:
    """The tenant's active workers, as a step that chooses its worker weighs them."""
    rows = Worker.objects.filter(tenant_id=tenant_id, status=WorkerStatus.ACTIVE).values_list(
        "id", "name", "labels", "actions"
    )
    return [
        WorkerProfile(worker_id, name, labels, frozenset(actions))
        for worker_id, name, labels, actions in rows
    ]
