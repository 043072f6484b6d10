"""Claiming queued step runs for a worker with free slots: the dispatch hot path."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Count, F, QuerySet, Value, Window
from django.db.models.functions import Cast, Coalesce, NullIf, RowNumber
from django.utils import timezone

from hatchet.postgresql.arrays import text_array
from hatchet.tracing import traceparent
from workflows.engine.affinity import (
    Choice,
    StickyTo,
    WorkerProfile,
    constrained_step_runs_queued,
    may_take_at,
)
from workflows.engine.concurrency import lock_key
from workflows.engine.effects import Effects
from workflows.engine.locked import ABANDONED_WAIT
from workflows.engine.rate_limits import take_units
from workflows.models import (
    HELD_STEP_RUNS,
    DurableWait,
    StepRun,
    StepRunAttempt,
    StepRunStatus,
)
from workflows.signals import live_workers


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
    is_on_failure: bool = False
    # The on-failure step's: the error of each step that failed for good, by name.
    errors: dict[str, str] | None = None
    # Not sent: what the claim needs to take the step's rate limits (or give it back).
    rate_limits: list[dict[str, Any]] = field(default_factory=list)
    schedule_timeout_seconds: float = 0
    durable: bool = False
    # A durable step's waits already over, in order: its function gets what they
    # returned without asking again (workflows/engine/durable.py).
    waits: list[dict[str, Any]] = field(default_factory=list)

    def as_message(self) -> dict[str, Any]:
        message = {
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
            "traceparent": traceparent(self.workflow_run_id, self.step_run_id),
        }
        if self.is_on_failure:
            message["errors"] = self.errors or {}
        if self.durable:
            message["durable"] = True
            message["waits"] = self.waits
        return message


def slot_lock_key(worker_id: UUID) -> int:
    """The advisory lock that serialises claims for one worker's slots."""
    return worker_id.int >> 65


def lock_worker_slots(worker_id: UUID) -> None:
    """Wait for the worker's slot lock, so that no claim for it runs beside this
    transaction's. Only the worker's own fill and refill wait for it, and as the first
    lock of their transaction: a transaction waiting for a slot lock then holds no other
    lock, so no two transactions can wait for each other through these locks. Every
    other claim only tries the lock (see CLAIM_SQL). SQLite needs nothing: its
    IMMEDIATE transactions already run one at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [slot_lock_key(worker_id)])


def try_worker_slots(worker_id: UUID) -> bool:
    """Whether this transaction holds the worker's slot lock, taking it if it is free
    (as CLAIM_SQL does): a claim for the worker in another transaction holds it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [slot_lock_key(worker_id)])
        row = cursor.fetchone()
    return bool(row and row[0])


def count_held_step_runs(worker_id: UUID) -> int:
    return StepRun.objects.filter(HELD_STEP_RUNS, worker_id=worker_id).count()


def claim_queued_step_runs(
    *,
    tenant_id: UUID,
    worker_id: UUID,
    worker_name: str,
    actions: Sequence[str],
    slots: int,
) -> list[Assignment]:
    """Assign to the worker as many claimable step runs of its actions as it has free
    slots, in rank order (StepRun.ranked_at: oldest first, moved up by priority), then
    those that choose their worker and may go to this one (claim_constrained), taking
    the units of their rate limits; other claimers skip the rows this one has locked.
    Claims nothing while another transaction holds the worker's slot lock (it is
    claiming for the worker), unless this one took it first with lock_worker_slots."""
    if not actions:
        return []
    effects = Effects()
    # No savepoint when a trigger or a report claims inside its own transaction: a
    # failed claim fails that transaction, as any other part of it would.
    with transaction.atomic(savepoint=False):
        claim = claim_of_this_database()
        claimed: list[Assignment] = []
        # Step runs whose rate limits are full go back to the queue, until their units
        # are free; the slots they took are claimed again, a few times at most (the
        # next wake-up or poll claims the rest).
        for _ in range(CLAIM_PASSES):
            now = timezone.now()
            passed = claim(tenant_id, worker_id, worker_name, list(actions), slots, now)
            passed += claim_constrained(
                tenant_id, worker_id, worker_name, list(actions), slots, now
            )
            given_back = take_units(tenant_id, passed, now)
            claimed += [a for a in passed if a.step_run_id not in given_back]
            if not given_back:
                break
        if not claimed:
            return []
        assignments = with_waits(with_failures(with_parent_outputs(claimed)))
        for row in claimed:
            effects.step_status(
                row.workflow_run_id, row.step_run_id, StepRunStatus.ASSIGNED, row.attempt
            )
        effects.announce()
    return assignments


CLAIM_PASSES = 3
Claim = Callable[[Any, UUID, str, list[str], int, datetime], list[Assignment]]


def claim_of_this_database() -> Claim:
    """PostgreSQL claims in one statement; SQLite, whose transactions run one at a
    time and which has no SKIP LOCKED, through the ORM. tests/unit/test_claim.py runs
    both on PostgreSQL, and the ORM's on SQLite."""
    return claim_in_one_statement if connection.vendor == "postgresql" else claim_with_orm


def claim_with_orm(
    tenant_id: UUID,
    worker_id: UUID,
    worker_name: str,
    actions: list[str],
    slots: int,
    now: datetime,
) -> list[Assignment]:
    free = slots - count_held_step_runs(worker_id)
    if free <= 0:
        return []
    ids = list(
        claimable(tenant_id, actions, now, constrained=False)
        .select_for_update(skip_locked=True)
        .order_by("ranked_at")
        .values_list("id", flat=True)[:free]
    )
    return assign(ids, worker_id, worker_name, now)


def claimable(
    tenant_id: UUID, actions: list[str], now: datetime, *, constrained: bool
) -> QuerySet[StepRun]:
    """The queued step runs of these actions that may be claimed now, of one kind."""
    return StepRun.objects.filter(
        tenant_id=tenant_id,
        status=StepRunStatus.QUEUED,
        constrained=constrained,
        action__in=actions,
        available_at__lte=now,
    )


def assign(ids: list[UUID], worker_id: UUID, worker_name: str, now: datetime) -> list[Assignment]:
    """Assign the picked (and locked) step runs to the worker, with their attempts."""
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
        .order_by("ranked_at")
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
            parents=dict.fromkeys(step_run.step.parents),
            overrides=step_run.workflow_run.overrides.get(step_run.step.name, {}),
            timeout_seconds=step_run.step.timeout_seconds,
            metadata=step_run.workflow_run.additional_metadata,
            is_on_failure=step_run.step.is_on_failure,
            rate_limits=step_run.step.rate_limits,
            schedule_timeout_seconds=step_run.step.schedule_timeout_seconds,
            durable=step_run.step.durable,
        )
        for step_run in step_runs
    ]


# Constrained step runs a claim weighs at most, oldest first, and of those at most
# KEY_CANDIDATES per step concurrency key.
CONSTRAINED_CANDIDATES = 100
KEY_CANDIDATES = 10


def claim_constrained(
    tenant_id: UUID,
    worker_id: UUID,
    worker_name: str,
    actions: list[str],
    slots: int,
    now: datetime,
) -> list[Assignment]:
    """Assign to the worker the queued step runs that choose their worker (affinity.py)
    and may go to it now, oldest first, up to its free slots."""
    # The cached look first: the common claim, with none queued, costs no statement.
    if not constrained_step_runs_queued(tenant_id) or not try_worker_slots(worker_id):
        return []
    free = slots - count_held_step_runs(worker_id)
    if free <= 0:
        return []
    queued = claimable(tenant_id, actions, now, constrained=True)
    # At most KEY_CANDIDATES of each step concurrency key: a key that floods the queue
    # does not crowd the others out of the candidates.
    key_or_self = Coalesce(NullIf(F("concurrency_key"), Value("")), Cast("id", CharField()))
    picked = (
        queued.annotate(
            place=Window(RowNumber(), partition_by=[key_or_self], order_by=F("ranked_at").asc())
        )
        .filter(place__lte=KEY_CANDIDATES)
        .order_by("ranked_at")
        .values_list("id", flat=True)[:CONSTRAINED_CANDIDATES]
    )
    candidates = list(
        StepRun.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=list(picked))
        .select_related("step")
        .order_by("ranked_at")
    )
    if not candidates:
        return []
    live = live_worker_profiles(tenant_id)
    # A worker not seen active (its row is being written) has no labels yet.
    me = next(
        (worker for worker in live if worker.id == worker_id),
        WorkerProfile(worker_id, worker_name, {}, frozenset(actions)),
    )
    choices = choices_of(candidates, {worker.id for worker in live})
    fitting = [
        step_run
        for step_run in candidates
        if (at := may_take_at(choices[step_run.id], me, live, step_run.available_at or now))
        is not None
        and at <= now
    ]
    room = step_key_room(tenant_id, fitting)
    ids = []
    for step_run in fitting:
        key = step_run.concurrency_key
        if key:
            if room[key] <= 0:
                continue
            room[key] -= 1
        ids.append(step_run.id)
        if len(ids) == free:
            break
    return assign(ids, worker_id, worker_name, now)


def step_key_room(tenant_id: UUID, step_runs: list[StepRun]) -> dict[str, int]:
    """How many more step runs each step concurrency key among `step_runs` may have
    held by workers, counted under the keys' locks (taken in key order)."""
    limits: dict[str, int] = {
        s.concurrency_key: (s.step.concurrency or {})["max_runs"]
        for s in step_runs
        if s.concurrency_key
    }
    if not limits:
        return {}
    for key in sorted(limits):
        lock_key(tenant_id, f"step/{key}")
    held = dict(
        StepRun.objects.filter(
            HELD_STEP_RUNS, tenant_id=tenant_id, concurrency_key__in=list(limits)
        )
        .values("concurrency_key")
        .annotate(count=Count("id"))
        .values_list("concurrency_key", "count")
    )
    return {key: limit - held.get(key, 0) for key, limit in limits.items()}


def choices_of(step_runs: list[StepRun], live_ids: set[UUID]) -> dict[UUID, Choice]:
    """What each constrained step run wants of a worker, its run's sticky worker read
    from the run's first attempt."""
    sticky_runs = {s.workflow_run_id for s in step_runs if s.step.sticky}
    stuck: dict[UUID, StickyTo] = {}
    if sticky_runs:
        firsts = (
            StepRunAttempt.objects.filter(step_run__workflow_run_id__in=sticky_runs)
            .exclude(worker_id=None)
            .order_by("assigned_at", "id")
            .values_list("step_run__workflow_run_id", "worker_id", "worker_name")
        )
        for run_id, worker_id, worker_name in firsts:
            if worker_id is not None:
                stuck.setdefault(run_id, StickyTo(worker_id, worker_name, worker_id in live_ids))
    return {
        s.id: Choice(
            s.action, s.step.desired_worker_labels, s.step.sticky, stuck.get(s.workflow_run_id)
        )
        for s in step_runs
    }


def live_worker_profiles(tenant_id: UUID) -> list[WorkerProfile]:
    profiles: list[WorkerProfile] = []
    for _, answer in live_workers.send(sender=None, tenant_id=tenant_id):
        if isinstance(answer, list):
            profiles.extend(answer)
    return profiles


# PostgreSQL counts the free slots, picks, assigns, records the attempts and reads what
# the messages need in one round trip: the same steps as claim_with_orm, as
# data-modifying CTEs.
CLAIM_SQL = """
WITH free AS (
    -- The worker's free slots, if its slot lock is free or already this transaction's
    -- (lock_worker_slots): a claim never waits for the lock. Held step runs are counted
    -- as HELD_STEP_RUNS says, so that the partial index of open step runs serves the
    -- count.
    SELECT CASE WHEN pg_try_advisory_xact_lock(%(slot_lock)s) THEN GREATEST(%(slots)s - (
        SELECT count(*) FROM workflows_steprun
        WHERE worker_id = %(worker)s AND status IN ('ASSIGNED', 'RUNNING')
          AND deadline IS NOT NULL
    ), 0) ELSE 0 END AS slots
), picked AS (
    -- Each action's queue is read in rank order from its own part of the index and
    -- stops at the free slots: a match on several actions at once (= ANY) would read
    -- and sort every queued step run of them at each claim (1.7 ms a claim with 400
    -- queued). A worker of several actions may lock a few more than it takes; the
    -- others skip them until it commits, and they stay queued.
    SELECT oldest.id FROM unnest(%(actions)s::text[]) AS wanted(action)
    CROSS JOIN LATERAL (
        SELECT id, ranked_at FROM workflows_steprun
        WHERE tenant_id = %(tenant)s AND status = 'QUEUED' AND NOT constrained
          AND action = wanted.action AND available_at <= %(now)s
        ORDER BY ranked_at
        LIMIT (SELECT slots FROM free)
        FOR UPDATE SKIP LOCKED
    ) AS oldest
    ORDER BY oldest.ranked_at
    LIMIT (SELECT slots FROM free)
), assigned AS (
    UPDATE workflows_steprun AS s
    SET status = 'ASSIGNED', worker_id = %(worker)s, attempt = s.attempt + 1,
        deadline = %(deadline)s
    FROM picked WHERE s.id = picked.id
    RETURNING s.id, s.workflow_run_id, s.step_id, s.attempt, s.retry_count, s.action,
        s.ranked_at
), attempts AS (
    INSERT INTO workflows_steprunattempt
        (step_run_id, number, status, worker_id, worker_name, assigned_at, error, traceback)
    SELECT id, attempt, 'ASSIGNED', %(worker)s, %(worker_name)s, %(now)s, '', ''
    FROM assigned
)
SELECT a.id, a.workflow_run_id, a.attempt, a.retry_count, a.action, w.name, st.name,
    st.parents, st.timeout_seconds, r.input, r.overrides, r.additional_metadata,
    st.is_on_failure, st.rate_limits, st.schedule_timeout_seconds, st.durable
FROM assigned AS a
JOIN workflows_step AS st ON st.id = a.step_id
JOIN workflows_workflowrun AS r ON r.id = a.workflow_run_id
JOIN workflows_workflow AS w ON w.id = r.workflow_id
ORDER BY a.ranked_at
"""


def from_json(value: Any) -> Any:
    # Django has psycopg hand jsonb over as text, for JSONField to decode.
    return json.loads(value) if isinstance(value, str) else value


def claim_in_one_statement(
    tenant_id: UUID,
    worker_id: UUID,
    worker_name: str,
    actions: list[str],
    slots: int,
    now: datetime,
) -> list[Assignment]:
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "actions": text_array(actions),
        "now": now,
        "slots": slots,
        "worker": worker_id,
        "slot_lock": slot_lock_key(worker_id),
        "worker_name": worker_name,
        "deadline": now + timedelta(seconds=settings.HATCHET_ASSIGN_START_TIMEOUT),
    }
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        rows = cursor.fetchall()
    return [
        Assignment(
            step_run_id=row[0],
            workflow_run_id=row[1],
            attempt=row[2],
            retry_count=row[3],
            action=row[4],
            workflow=row[5],
            step=row[6],
            input=from_json(row[9]),
            parents=dict.fromkeys(from_json(row[7])),
            overrides=from_json(row[10]).get(row[6], {}),
            timeout_seconds=row[8],
            metadata=from_json(row[11]),
            is_on_failure=row[12],
            rate_limits=from_json(row[13]),
            schedule_timeout_seconds=row[14],
            durable=row[15],
        )
        for row in rows
    ]


def with_parent_outputs(assignments: list[Assignment]) -> list[Assignment]:
    """The assignments with their parents' recorded outputs filled in."""
    wanted_runs = {a.workflow_run_id for a in assignments if a.parents}
    if not wanted_runs:
        return assignments
    rows = StepRun.objects.filter(
        workflow_run_id__in=wanted_runs, status=StepRunStatus.SUCCEEDED
    ).values_list("workflow_run_id", "step__name", "output")
    outputs = {(run_id, name): output for run_id, name, output in rows}
    return [
        replace(a, parents={name: outputs.get((a.workflow_run_id, name)) for name in a.parents})
        for a in assignments
    ]


def with_waits(assignments: list[Assignment]) -> list[Assignment]:
    """The durable assignments with the waits their step runs made that are over."""
    wanted = [a.step_run_id for a in assignments if a.durable]
    if not wanted:
        return assignments
    waits: dict[UUID, list[dict[str, Any]]] = {step_run_id: [] for step_run_id in wanted}
    for step_run_id, ordinal, kind, spec, result in (
        DurableWait.objects.filter(step_run_id__in=wanted, resolved_at__isnull=False)
        .exclude(result=ABANDONED_WAIT)
        .order_by("ordinal")
        .values_list("step_run_id", "ordinal", "kind", "spec", "result")
    ):
        waits[step_run_id].append(
            {"ordinal": ordinal, "kind": kind, "spec": spec, "result": result}
        )
    return [replace(a, waits=waits[a.step_run_id]) if a.durable else a for a in assignments]


def with_failures(assignments: list[Assignment]) -> list[Assignment]:
    """The on-failure assignments with the errors of their runs' failed steps."""
    wanted_runs = {a.workflow_run_id for a in assignments if a.is_on_failure}
    if not wanted_runs:
        return assignments
    rows = StepRun.objects.filter(
        workflow_run_id__in=wanted_runs,
        status__in=[StepRunStatus.FAILED, StepRunStatus.TIMED_OUT],
    ).values_list("workflow_run_id", "step__name", "error")
    errors: dict[UUID, dict[str, str]] = {run_id: {} for run_id in wanted_runs}
    for run_id, name, error in rows:
        errors[run_id][name] = error
    return [
        replace(a, errors=errors[a.workflow_run_id]) if a.is_on_failure else a for a in assignments
    ]
