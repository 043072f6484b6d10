"""Durable steps' waits: a sleep, an event, children's results.

A durable step's function numbers its waits in the order it makes them. The first time
it makes wait n, the server records it (a DurableWait, its checkpoint) and, unless it
is already over (a sleep of nothing, an event pushed within its lookback, children
already done), the step run gives its worker's slot back and is WAITING. When the wait
ends (its time comes, the event is pushed, the last child finishes, it times out, an
operator skips it) the step run is queued again; its next attempt runs the function
from the start, and each wait already made returns what it returned then, from the
assignment's record. A wait made again must be the same (its kind and what it waits
for): anything else means the function is not deterministic, and the step fails with a
message that says where it diverged.

Waits end in the transaction that resumes their step run, after the event push or the
child's end has committed (so that those never wait on the parent's locks); the tick
ends the waits whose time came, and catches the ends that a crash between the two
transactions, or a push racing a wait's start, left undone.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest, NotFound
from hatchet.wire.durations import parse_duration
from workflows.engine.events import check_event_key
from workflows.engine.locked import ABANDONED_WAIT, LockedRuns
from workflows.engine.transitions import (
    queue_locked_step_run,
    start_step_run,
    suspend_step_run,
)
from workflows.models import (
    STEP_RUN_HELD,
    WORKFLOW_RUN_TERMINAL,
    DurableWait,
    Event,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

logger = logging.getLogger(__name__)

SLEEP = DurableWait.Kind.SLEEP
EVENT = DurableWait.Kind.EVENT
CHILDREN = DurableWait.Kind.CHILDREN
MAX_ORDINAL = 100_000
MAX_WAIT_SECONDS = 366 * 24 * 3600
MAX_FILTER_FIELDS = 20
MAX_CHILDREN_AWAITED = 10_000
# A wait also sees the events pushed this long before it began: a push that commits
# while the wait begins is not missed between the two transactions.
EVENT_GRACE = timedelta(seconds=1)
# The tick looks again at the event waits begun this recently, for a push that raced
# their start.
EVENT_SWEEP_WINDOW = timedelta(seconds=30)
# Events a wait weighs at most, oldest first.
EVENTS_WEIGHED = 500
BATCH = 200


class NonDeterministic(Conflict):
    code = "nondeterministic"


@dataclass(frozen=True)
class WaitRequest:
    """What a durable step's function asks for as its `ordinal`-th wait."""

    step_run_id: UUID
    attempt: int
    ordinal: int
    kind: str
    spec: Any


# How a wait request is answered: over (with what it returned), the step run now waits
# (its worker lets the function go), or stale (the attempt is over for the server).
RESOLVED = "resolved"
WAITING = "waiting"
STALE = "stale"


def make_wait(tenant_id: UUID, worker_id: UUID, request: WaitRequest) -> dict[str, Any]:
    """Record the wait (or find it recorded), and answer whether it is over; when it is
    not, the step run gives its slot back and waits, in the same transaction."""
    spec = checked_spec(request.kind, request.spec)
    if not 0 <= request.ordinal <= MAX_ORDINAL:
        raise InvalidRequest(f"'ordinal' must be from 0 to {MAX_ORDINAL}.")
    with transaction.atomic():
        locked = LockedRuns(of_step_runs=(tenant_id, [request.step_run_id]))
        step_run = locked.step_runs.get(request.step_run_id)
        if step_run is None:
            raise NotFound("Unknown step run.")
        if step_run.attempt != request.attempt:
            return {"state": STALE}
        wait = (
            DurableWait.objects.select_for_update()
            .filter(step_run_id=step_run.pk, ordinal=request.ordinal)
            .first()
        )
        if wait is not None:
            check_same(wait, request.kind, spec, step_run)
            if step_run.status == StepRunStatus.WAITING and wait.resolved_at is None:
                return {"state": WAITING}  # the request again, its answer lost
        if step_run.status not in STEP_RUN_HELD or step_run.worker_id != worker_id:
            return {"state": STALE}
        if not step_run.step.durable:
            raise InvalidRequest(
                f"Step '{step_run.step.name}' is not durable: mark it @step(durable=True) "
                "to sleep or wait for events without holding a worker's slot."
            )
        if wait is None or wait.result == ABANDONED_WAIT:
            # A wait its step run left when it ended (a retried run) begins again.
            fresh = new_wait(step_run, request.ordinal, request.kind, spec, locked.now)
            fresh.pk = None if wait is None else wait.pk
            wait = fresh
            result = result_now(wait)
            if result is not None:
                wait.resolved_at, wait.result = locked.now, result
            wait.save()
        if wait.resolved_at is not None:
            return {"state": RESOLVED, "result": wait.result}
        if step_run.status == StepRunStatus.ASSIGNED:
            start_step_run(locked, step_run)
        suspend_step_run(locked, step_run)
        locked.flush()
    return {"state": WAITING}


def checked_spec(kind: str, raw: Any) -> dict[str, Any]:
    """The wait's spec in its one form (compared on replay); raises InvalidRequest."""
    if not isinstance(raw, dict):
        raise InvalidRequest("'spec' must be an object.")
    if kind == SLEEP:
        return {"seconds": seconds_of(raw.get("seconds"), "seconds", allow_zero=True)}
    timeout = raw.get("timeout")
    checked_timeout = None if timeout is None else seconds_of(timeout, "timeout")
    if kind == EVENT:
        key = check_event_key(raw.get("key"), "An event wait")
        wanted = raw.get("filter") or {}
        if not (
            isinstance(wanted, dict)
            and len(wanted) <= MAX_FILTER_FIELDS
            and all(isinstance(path, str) and path for path in wanted)
        ):
            raise InvalidRequest(
                f"An event wait's 'filter' maps at most {MAX_FILTER_FIELDS} payload paths "
                "('ticket.id') to the values they must have."
            )
        lookback = raw.get("lookback")
        return {
            "key": key,
            "filter": wanted,
            "lookback": 0.0 if lookback is None else seconds_of(lookback, "lookback", True),
            "timeout": checked_timeout,
        }
    if kind == CHILDREN:
        runs = raw.get("runs")
        if not (isinstance(runs, list) and 0 < len(runs) <= MAX_CHILDREN_AWAITED):
            raise InvalidRequest(
                f"A children wait names from 1 to {MAX_CHILDREN_AWAITED} runs in 'runs'."
            )
        try:
            ids = [str(UUID(str(run))) for run in runs]
        except ValueError:
            raise InvalidRequest("'runs' must be workflow run ids.") from None
        return {"runs": ids, "timeout": checked_timeout}
    raise InvalidRequest(f"'kind' must be {SLEEP}, {EVENT} or {CHILDREN}, not {kind!r}.")


def seconds_of(value: Any, field: str, allow_zero: bool = False) -> float:
    """Seconds given as a number or a duration string ('30s', '2h')."""
    if isinstance(value, str):
        try:
            value = parse_duration(value)
        except ValueError as exc:
            raise InvalidRequest(f"'{field}': {exc}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"'{field}' must be a number of seconds or a duration ('30s').")
    if not (value >= 0 if allow_zero else value > 0) or value > MAX_WAIT_SECONDS:
        least = "zero" if allow_zero else "more than zero"
        raise InvalidRequest(f"'{field}' must be from {least} to {MAX_WAIT_SECONDS} seconds.")
    return float(value)


def check_same(wait: DurableWait, kind: str, spec: dict[str, Any], step_run: StepRun) -> None:
    if wait.kind == kind and wait.spec == spec:
        return
    raise NonDeterministic(
        f"Durable step '{step_run.step.name}' is not deterministic: its wait "
        f"#{wait.ordinal + 1} was {describe(wait.kind, wait.spec)} when it first ran, and "
        f"is {describe(kind, spec)} now. A durable step must make the same waits in the "
        "same order every time it runs: keep what changes between runs (clocks, random "
        "numbers, API answers) out of what it waits for, or do it in a step of its own.",
        {"ordinal": wait.ordinal, "recorded": {"kind": wait.kind, "spec": wait.spec}},
    )


def describe(kind: str, spec: dict[str, Any]) -> str:
    if kind == SLEEP:
        return f"sleep_for({spec.get('seconds'):g}s)"
    if kind == EVENT:
        return f"wait_for_event({spec.get('key')!r})"
    return f"a wait for {len(spec.get('runs') or [])} child run(s)"


def new_wait(
    step_run: StepRun, ordinal: int, kind: str, spec: dict[str, Any], now: datetime
) -> DurableWait:
    seconds = spec["seconds"] if kind == SLEEP else spec.get("timeout")
    return DurableWait(
        tenant_id=step_run.tenant_id,
        step_run_id=step_run.pk,
        ordinal=ordinal,
        kind=kind,
        spec=spec,
        event_key=spec["key"] if kind == EVENT else "",
        due_at=None if seconds is None else now + timedelta(seconds=seconds),
        created_at=now,
    )


def result_now(wait: DurableWait) -> Any:
    """What the wait returns if it is over as it begins; None if it must wait."""
    if wait.kind == SLEEP:
        return {"slept": wait.spec["seconds"]} if wait.spec["seconds"] <= 0 else None
    if wait.kind == EVENT:
        event = matching_event(wait)
        return None if event is None else {"event": event_json(event)}
    return children_result(wait.tenant_id, wait.spec["runs"])


def matching_event(wait: DurableWait, among: Iterable[Event] | None = None) -> Event | None:
    """The oldest event the wait takes: of its key, pushed since it began (less its
    lookback), whose payload has the filter's values, and not taken by an earlier wait
    of the same step run."""
    since = wait.created_at - timedelta(seconds=wait.spec["lookback"]) - EVENT_GRACE
    if among is None:
        among = Event.objects.filter(
            tenant_id=wait.tenant_id, key=wait.event_key, created_at__gte=since
        ).order_by("created_at")[:EVENTS_WEIGHED]
    candidates = [
        event
        for event in among
        if event.key == wait.event_key
        and event.created_at >= since
        and payload_matches(event.payload, wait.spec["filter"])
    ]
    if not candidates:
        return None
    taken = {
        (result or {}).get("event", {}).get("id")
        for result in DurableWait.objects.filter(
            step_run_id=wait.step_run_id, kind=EVENT, resolved_at__isnull=False
        ).values_list("result", flat=True)
    }
    return next((event for event in candidates if str(event.pk) not in taken), None)


def payload_matches(payload: Any, wanted: Mapping[str, Any]) -> bool:
    for path, value in wanted.items():
        found: Any = payload
        for part in path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if found != value:
            return False
    return True


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "key": event.key,
        "payload": event.payload,
        "additional_metadata": event.additional_metadata,
        "created_at": event.created_at.isoformat(),
    }


def children_result(tenant_id: UUID, run_ids: list[str]) -> dict[str, Any] | None:
    """Each run's outcome once all have finished; None while one has not."""
    outcomes = run_outcomes(tenant_id, run_ids)
    if len(outcomes) < len(set(run_ids)):
        return None
    return {"runs": outcomes}


def run_outcomes(tenant_id: UUID, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The finished runs among these (a run of another tenant counts as cancelled): how
    each ended and, for one that succeeded, its steps' outputs by step name."""
    wanted = set(run_ids)
    runs = {
        str(run_id): (workflow, status, error)
        for run_id, workflow, status, error in WorkflowRun.objects.filter(
            tenant_id=tenant_id, pk__in=wanted
        ).values_list("pk", "workflow__name", "status", "error")
    }
    outcomes: dict[str, dict[str, Any]] = {
        run_id: {"status": WorkflowRunStatus.CANCELLED, "error": "No such run of this tenant."}
        for run_id in wanted - set(runs)
    }
    succeeded = []
    for run_id, (workflow, status, error) in runs.items():
        if status in WORKFLOW_RUN_TERMINAL:
            outcomes[run_id] = {"workflow": workflow, "status": status, "error": error}
            if status == WorkflowRunStatus.SUCCEEDED:
                succeeded.append(run_id)
                outcomes[run_id]["output"] = {}
    for parent_id, step, output in StepRun.objects.filter(
        workflow_run_id__in=succeeded, step__is_on_failure=False
    ).values_list("workflow_run_id", "step__name", "output"):
        outcomes[str(parent_id)]["output"][step] = output
    return outcomes


def end_waits(ends: Mapping[int, Any]) -> int:
    """End the open waits named (by id, with what each returns) and queue again the step
    runs that waited on them; one transaction. Returns how many it ended."""
    if not ends:
        return 0
    step_run_ids = dict(
        DurableWait.objects.filter(pk__in=list(ends), resolved_at__isnull=True).values_list(
            "pk", "step_run_id"
        )
    )
    if not step_run_ids:
        return 0
    run_ids = set(
        StepRun.objects.filter(pk__in=set(step_run_ids.values())).values_list(
            "workflow_run_id", flat=True
        )
    )
    with transaction.atomic():
        locked = LockedRuns(run_ids)
        waits = list(
            DurableWait.objects.select_for_update().filter(
                pk__in=list(step_run_ids), resolved_at__isnull=True
            )
        )
        for wait in waits:
            wait.resolved_at, wait.result = locked.now, ends[wait.pk]
            step_run = locked.step_runs.get(wait.step_run_id)
            if step_run is not None and step_run.status == StepRunStatus.WAITING:
                queue_locked_step_run(locked, step_run)
        DurableWait.objects.bulk_update(waits, ["resolved_at", "result"])
        locked.flush()
    return len(waits)


def end_due_waits(now: datetime) -> int:
    """The sleeps whose time came end; the other waits past their timeout time out."""
    due = DurableWait.objects.filter(resolved_at__isnull=True, due_at__lte=now).values_list(
        "pk", "kind", "spec"
    )[:BATCH]
    return end_waits(
        {
            pk: {"slept": spec["seconds"]} if kind == SLEEP else {"timed_out": True}
            for pk, kind, spec in due
        }
    )


def end_event_waits(tenant_id: UUID, events: list[Event]) -> int:
    """The open waits that the pushed events end (each event ends at most one wait of a
    step run; every step run waiting for it gets it)."""
    keys = {event.key for event in events}
    if not keys:
        return 0
    waits = DurableWait.objects.filter(
        tenant_id=tenant_id, kind=EVENT, event_key__in=keys, resolved_at__isnull=True
    )
    return end_waits(taken_events(waits, events))


def taken_events(waits: Iterable[DurableWait], among: list[Event] | None) -> dict[int, Any]:
    ends = {}
    for wait in waits:
        event = matching_event(wait, among)
        if event is not None:
            ends[wait.pk] = {"event": event_json(event)}
    return ends


def sweep_event_waits(now: datetime) -> int:
    """The event waits begun lately that an event pushed as they began ends."""
    waits = DurableWait.objects.filter(
        kind=EVENT, resolved_at__isnull=True, created_at__gte=now - EVENT_SWEEP_WINDOW
    )[:BATCH]
    return end_waits(taken_events(waits, None))


def end_children_waits(parent_step_run_ids: Iterable[UUID]) -> int:
    """The open children waits of these step runs whose children have all finished."""
    waits = list(
        DurableWait.objects.filter(
            step_run_id__in=list(parent_step_run_ids), kind=CHILDREN, resolved_at__isnull=True
        )
    )
    return end_waits(finished_children(waits))


def finished_children(waits: list[DurableWait]) -> dict[int, Any]:
    unfinished = set(
        str(run_id)
        for run_id in WorkflowRun.objects.filter(
            parent_step_run_id__in={wait.step_run_id for wait in waits}
        )
        .exclude(status__in=sorted(WORKFLOW_RUN_TERMINAL))
        .values_list("pk", flat=True)
    )
    ends = {}
    for wait in waits:
        if unfinished.isdisjoint(wait.spec["runs"]):
            result = children_result(wait.tenant_id, wait.spec["runs"])
            if result is not None:
                ends[wait.pk] = result
    return ends


def sweep_children_waits() -> int:
    """Children waits whose children all finished while no one ended them (a crash
    between a child's end and its parent's wake-up)."""
    waits = list(DurableWait.objects.filter(kind=CHILDREN, resolved_at__isnull=True)[:BATCH])
    return end_waits(finished_children(waits)) if waits else 0


def run_waits(now: datetime | None = None) -> dict[str, int]:
    """The tick's part: waits due, and those an end racing their start left open."""
    now = now or timezone.now()
    return {
        "durable_waits_due": end_due_waits(now),
        "durable_waits_swept": sweep_event_waits(now) + sweep_children_waits(),
    }


def open_wait_of(step_run: StepRun) -> DurableWait | None:
    return (
        DurableWait.objects.filter(step_run_id=step_run.pk, resolved_at__isnull=True)
        .order_by("-ordinal")
        .first()
    )


def skip_wait(tenant_id: UUID, step_run_id: Any) -> DurableWait:
    """An operator ends a waiting step run's sleep now."""
    step_run = StepRun.objects.filter(tenant_id=tenant_id, pk=step_run_id).first()
    if step_run is None:
        raise NotFound("Step run not found.")
    wait = open_wait_of(step_run)
    if wait is None or step_run.status != StepRunStatus.WAITING:
        raise Conflict(
            "This step run is not waiting.",
            {"status": step_run.status, "step_run": str(step_run.pk)},
        )
    if wait.kind != SLEEP:
        raise Conflict(
            f"Only a sleep can be skipped; this step run waits for {describe(wait.kind, wait.spec)}"
            + (": push the event it waits for." if wait.kind == EVENT else "."),
            {"kind": wait.kind},
        )
    end_waits({wait.pk: {"slept": wait.spec["seconds"], "skipped": True}})
    wait.refresh_from_db()
    return wait


def waits_of(step_run_ids: Iterable[Any]) -> dict[Any, list[DurableWait]]:
    found: dict[Any, list[DurableWait]] = {}
    for wait in DurableWait.objects.filter(step_run_id__in=list(step_run_ids)).order_by(
        "step_run_id", "ordinal"
    ):
        found.setdefault(wait.step_run_id, []).append(wait)
    return found


def on_events_pushed(*, tenant_id: UUID, events: list[Event], **_: Any) -> None:
    try:
        end_event_waits(tenant_id, events)
    except Exception:
        # The tick's sweep ends them instead.
        logger.exception("ending the waits for %d pushed event(s) failed", len(events))


def on_children_finished(*, parent_step_run_ids: set[UUID], **_: Any) -> None:
    try:
        end_children_waits(parent_step_run_ids)
    except Exception:
        logger.exception(
            "ending the children waits of %d step run(s) failed", len(parent_step_run_ids)
        )
