"""The worker websocket: translates protocol messages into engine calls."""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from typing_extensions import override

from hatchet.auth import Caller, refusal_of
from hatchet.concurrency import in_db_thread
from hatchet.db import described, is_transient, pipelined
from hatchet.errors import ServiceError
from hatchet.logs import log_context
from hatchet.messages import Message, ProtocolError, parse_message
from hatchet.models import runs_workers
from hatchet.sockets import FORBIDDEN, UNAUTHORIZED, Socket
from hatchet.wire.durations import parse_duration
from workers import registry
from workers.dispatch import NODE, deliver_on_commit, dispatcher, stop_message
from workers.messages import REPORT_TYPES, REQUEST_TYPES, WORKER_MESSAGES
from workers.metrics import REPORT_BATCH_SIZE
from workflows.engine import children, durable, results
from workflows.engine.affinity import MAX_LABELS, check_worker_labels
from workflows.engine.queue import Assignment, claim_queued_step_runs, lock_worker_slots
from workflows.engine.results import Outcome

logger = logging.getLogger(__name__)

MAX_ACTIONS = 1000
MAX_SLOTS = 10_000
# The worker was declared dead while its socket stayed open (it hung).
WORKER_STOPPED = 4410
# Pauses between tries of a report batch while the database is unavailable.
FIRST_PAUSE = 0.05
MAX_PAUSE = 2.0
R = TypeVar("R")
Item = results.Report | results.Line | results.Unstorable


class SocketClosed(Exception):
    """The worker went away while its reports waited for the database."""


class WorkerConsumer(Socket):
    worker_id: UUID
    draining = False
    closed = False
    lingering = 0

    async def connect(self) -> None:
        await self.accept()
        caller = self.scope.get("caller")
        if caller is None:
            await self.refuse(UNAUTHORIZED, *refusal_of(self.scope))
            return
        if not self.may_use(caller):
            await self.refuse(
                FORBIDDEN,
                "forbidden",
                f"The {caller.role} role cannot run workers: "
                "use a worker token (create_api_token --role worker).",
            )
            return
        if not await self.follow_caller(caller):
            return
        self.tenant_id = caller.tenant.id
        self.connection_id = uuid.uuid4()
        self.registered = False
        self.inbox: list[tuple[Message, Item]] = []
        self.inbox_task: asyncio.Task[None] | None = None
        self.fill_wanted = False
        self.fill_task: asyncio.Task[None] | None = None
        self.last_heartbeat_write = 0.0
        # Requests being answered; kept so that their tasks are not collected mid-way.
        self.requests: set[asyncio.Task[None]] = set()

    def may_use(self, caller: Caller) -> bool:
        return runs_workers(caller.role)

    async def refuse(self, code: int, error_code: str, message: str) -> None:
        """Tell the worker why, then close: the SDK stops on 4401 and 4403 rather than
        reconnect with a token that will be refused again."""
        if self.closed:
            return
        self.closed = True
        if getattr(self, "registered", False):
            dispatcher.detach(self)
        await self.send_message({"type": "error", "code": error_code, "message": message})
        await self.close(code=code)

    @override
    async def disconnect(self, code: int) -> None:
        self.closed = True
        if not getattr(self, "registered", False):
            return
        dispatcher.detach(self)
        went_at = await in_db_thread(registry.disconnect_worker, self.worker_id, self.connection_id)
        if went_at is not None:
            # Closed without a drain: a worker that is alive reconnects within the
            # grace; one that was killed has its steps queued again right after it.
            await asyncio.sleep(settings.HATCHET_RECONNECT_GRACE)
            await in_db_thread(registry.release_unless_back, self.worker_id, went_at)

    async def close_stopped(self) -> None:
        """The worker was declared dead (its step runs went back to the queue) while this
        socket stayed open: it gets no more work, and registers anew when it wakes."""
        if self.closed:
            return
        self.closed = True
        dispatcher.detach(self)
        await self.send_message(
            {
                "type": "error",
                "code": "worker_stopped",
                "message": "This worker was silent past the timeout and is stopped; "
                "its step runs went back to the queue. Register again.",
            }
        )
        await self.close(code=WORKER_STOPPED)

    async def send_message(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message))

    @override
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return  # refused or stopped: what arrives while the socket closes is not read
        # The tasks a message starts (its batch, its request) log with these ids too.
        with log_context(tenant_id=self.tenant_id, worker_id=getattr(self, "worker_id", None)):
            await self.receive_text(text_data)

    async def receive_text(self, text_data: str | None) -> None:
        try:
            if text_data is None:
                raise ProtocolError("malformed_json", "Send JSON text frames, not binary ones.")
            message = parse_message(
                text_data, settings.HATCHET_MAX_MESSAGE_BYTES, WORKER_MESSAGES, REPORT_TYPES
            )
            if message.type != "register" and not self.registered:
                raise ProtocolError(
                    "not_registered", "Send 'register' before anything else.", message.id
                )
            if message.type == "register":
                await self.register(message)
            elif message.type == "heartbeat":
                await self.heartbeat(message)
            elif message.type == "labels":
                await self.set_labels(message)
            elif message.type in REQUEST_TYPES:
                self.requests.add(asyncio.create_task(self.answer(message)))
            else:
                self.enqueue(message)
        except ProtocolError as error:
            await self.send_message(error.as_message())

    def enqueue(self, message: Message) -> None:
        """Step reports wait in an inbox that one task drains in batches: whatever
        arrives while a batch is in the database goes into the next one."""
        self.inbox.append((message, report_of(message)))
        if self.inbox_task is None or self.inbox_task.done():
            self.inbox_task = asyncio.create_task(self.drain_inbox())

    async def drain_inbox(self) -> None:
        while self.inbox and not self.closed:
            batch, self.inbox = self.inbox, []
            REPORT_BATCH_SIZE.observe(len(batch))
            try:
                outcomes = await self.apply_each([item for _, item in batch])
            except SocketClosed:
                return  # unacked, so the worker sends the batch again when it is back
            for (message, _), outcome in zip(batch, outcomes, strict=True):
                await self.reply_to(message, outcome)

    async def apply_each(self, items: list[Item]) -> list[Outcome]:
        """Apply a batch in one transaction; when the database refuses it, apply its items
        one at a time, so that what it cannot store is refused alone and fails only its
        own step run."""
        try:
            return await self.in_db_until_done(self.apply_and_refill, items)
        except SocketClosed:
            raise
        except Exception as error:
            if len(items) > 1:
                return [outcome for item in items for outcome in await self.apply_each([item])]
            logger.warning("worker %s: the database refused a report: %s", self.worker_id, error)
            item = items[0].item if isinstance(items[0], results.Unstorable) else items[0]
            return [
                await self.in_db_until_done(
                    results.refuse, self.tenant_id, self.worker_id, item, described(error)
                )
            ]

    async def in_db_until_done(self, function: Callable[..., R], *args: Any) -> R:
        """Run `function` in a database thread, waiting out database faults (lost
        connections, SQLite's lock) with a growing pause while the socket is open: the
        worker keeps every report until it is acked, so giving up loses nothing either."""
        pause = FIRST_PAUSE
        while True:
            try:
                return await in_db_thread(function, *args)
            except Exception as error:
                if not is_transient(error):
                    raise
                if self.closed:
                    raise SocketClosed from error
                logger.warning(
                    "worker %s: database unavailable (%s); retrying", self.worker_id, error
                )
            await asyncio.sleep(pause)
            pause = min(2 * pause, MAX_PAUSE)

    def apply_and_refill(self, items: list[Item]) -> list[Outcome]:
        """Apply a batch and, when it ended steps, fill the slots they held in the same
        transaction: no wake-up, claim and commit of its own per batch. The new
        assignments leave as it commits, ahead of the acks."""
        ends_steps = any(
            isinstance(item, results.Report) and item.kind in results.ENDING for item in items
        )
        refills = ends_steps and not self.draining
        with transaction.atomic(), pipelined():
            if refills:
                lock_worker_slots(self.worker_id)
            refill = deliver_on_commit(self)
            outcomes = results.apply_reports_and_lines(self.tenant_id, self.worker_id, items)
            if refills:
                refill.extend(self.claim_for_me(self.actions))
            return outcomes

    async def reply_to(self, message: Message, outcome: Outcome) -> None:
        if outcome is None:
            error = ProtocolError("unknown_step_run", "Unknown step run.", message.id)
            await self.send_message(error.as_message())
            return
        if isinstance(outcome, results.Refused):
            error = ProtocolError("cannot_store", outcome.reason, message.id)
            await self.send_message(error.as_message())
            return
        await self.send_message({"type": "ack", "id": message.id, "applied": outcome})
        if message.type == "step.started" and not outcome:
            # The server has moved on (requeued or cancelled); the worker must not run it.
            await self.send_message(
                {
                    "type": "step.cancel",
                    "step_run_id": str(message["step_run_id"]),
                    "attempt": message["attempt"],
                    "reason": "stale",
                }
            )

    async def answer(self, message: Message) -> None:
        """Answer a running step's request (a spawn, a wait, its children's outcomes)
        with an ack carrying the result; each is idempotent, so the worker re-sends it
        until answered."""
        try:
            result = await self.in_db_until_done(self.serve_request, message)
        except SocketClosed:
            return
        except ServiceError as refused:
            await self.send_message(
                ProtocolError(refused.code, refused.message, message.id).as_message()
            )
            return
        except Exception:
            logger.exception("worker %s: a %s request failed", self.worker_id, message.type)
            failed = ProtocolError("server_error", "The server failed to answer.", message.id)
            await self.send_message(failed.as_message())
            return
        finally:
            task = asyncio.current_task()
            if task is not None:
                self.requests.discard(task)
        await self.send_message(
            {"type": "ack", "id": message.id, "applied": True, "result": result}
        )
        if result.get("state") == durable.WAITING:
            self.request_fill()  # the step gave its slot back

    def serve_request(self, message: Message) -> dict[str, Any]:
        step_run_id, attempt = message["step_run_id"], message["attempt"]
        if message.type == "step.spawn":
            if self.caller is None:
                raise RuntimeError("the socket has not been accepted")
            runs = children.spawn_children(
                self.caller.tenant, self.worker_id, step_run_id, attempt, message["children"]
            )
            if runs is None:
                return {"state": durable.STALE}
            return {"runs": [str(run.pk) for run in runs]}
        if message.type == "step.children":
            return {
                "runs": children.children_outcomes(self.tenant_id, step_run_id, message["runs"])
            }
        request = durable.WaitRequest(
            step_run_id, attempt, message["ordinal"], message["kind"], message["spec"]
        )
        return durable.make_wait(self.tenant_id, self.worker_id, request)

    async def register(self, message: Message) -> None:
        actions = message["actions"]
        if not (
            len(actions) <= MAX_ACTIONS
            and all(isinstance(a, str) and 0 < len(a) <= 401 for a in actions)
        ):
            raise ProtocolError(
                "invalid_field", f"'actions' must be at most {MAX_ACTIONS} non-empty strings."
            )
        if not 1 <= message["slots"] <= MAX_SLOTS:
            raise ProtocolError("invalid_field", f"'slots' must be from 1 to {MAX_SLOTS}.")
        labels = checked_labels(message.get("labels") or {})
        worker_id = message.get("worker_id")
        try:
            resume_id = UUID(worker_id) if worker_id else None
        except (ValueError, TypeError):
            raise ProtocolError("invalid_field", "'worker_id' must be a UUID string.") from None
        if self.caller is None:
            raise RuntimeError("the socket has not been accepted")
        worker, resume_key = await in_db_thread(
            registry.register_worker,
            self.caller.tenant,
            name=str(message["name"])[:200],
            actions=actions,
            slots=message["slots"],
            labels=labels,
            sdk_version=str(message.get("sdk_version", ""))[:64],
            connection_id=self.connection_id,
            node=NODE,
            worker_id=resume_id,
            resume_key=str(message.get("resume_key") or "")[:100],
            token=self.caller.token,
        )
        if self.registered and worker.id != self.worker_id:
            dispatcher.detach(self)
        self.worker_id = worker.id
        self.worker_name = worker.name
        self.actions = list(actions)
        self.slots = message["slots"]
        self.registered = True
        self.draining = False
        await self.send_message(
            {
                "type": "registered",
                "worker_id": str(worker.id),
                "resume_key": resume_key,
                "heartbeat_interval": settings.HATCHET_HEARTBEAT_INTERVAL,
                "max_message_bytes": settings.HATCHET_MAX_MESSAGE_BYTES,
            }
        )
        dispatcher.attach(self)

    async def set_labels(self, message: Message) -> None:
        """The worker's labels change while it runs: steps that want the new ones may
        come to it now."""
        labels = checked_labels(message["labels"])
        await self.in_db_until_done(registry.set_labels, self.worker_id, labels)
        await self.send_message({"type": "labels.set", "labels": labels})
        self.request_fill()

    async def heartbeat(self, message: Message) -> None:
        draining = bool(message.get("draining", False))
        held = self.held_step_runs(message.get("running", []))
        lingering = message.get("lingering", 0)
        if isinstance(lingering, int) and not isinstance(lingering, bool):
            freed = 0 <= lingering < self.lingering
            self.lingering = min(max(lingering, 0), self.slots)
            if freed:
                self.request_fill()
        now = timezone.now().timestamp()
        # Beats arrive often; the row only needs to stay well inside the worker timeout.
        if draining != self.draining or now - self.last_heartbeat_write >= (
            settings.HATCHET_HEARTBEAT_INTERVAL / 2
        ):
            try:
                live = await in_db_thread(
                    registry.record_heartbeat, self.worker_id, self.connection_id, draining=draining
                )
            except Exception as error:
                if not is_transient(error):
                    raise
                logger.warning("worker %s: heartbeat not recorded: %s", self.worker_id, error)
                return  # the next beat records it
            if not live:
                await self.close_stopped()
                return
            self.last_heartbeat_write = now
            await self.stop_what_is_no_longer_held(held)
        self.draining = draining

    async def stop_what_is_no_longer_held(self, held: list[tuple[UUID, int]]) -> None:
        """Stop orders go out once, when the step run ends or is taken back; the beats
        that list it still running make up for one that was lost."""
        if not held:
            return  # no round trip to the database for a worker running nothing
        try:
            stops = await in_db_thread(
                registry.stops_for_held, self.tenant_id, self.worker_id, held
            )
        except Exception as error:
            if not is_transient(error):
                raise
            return  # the next beat asks again
        for stop in stops:
            await self.send_message(stop_message(stop))

    def held_step_runs(self, running: Any) -> list[tuple[UUID, int]]:
        try:
            if not isinstance(running, list) or len(running) > self.slots:
                raise ValueError
            held = [(UUID(item["step_run_id"]), item["attempt"]) for item in running]
            if not all(type(attempt) is int and attempt >= 1 for _, attempt in held):
                raise ValueError
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ProtocolError(
                "invalid_field",
                f"'running' must be a list of at most {self.slots} (the worker's slots) "
                "objects with a 'step_run_id' (a UUID string) and an 'attempt' (from 1).",
            ) from None
        return held

    def request_fill(self) -> None:
        """Ask for this worker's free slots to be filled; requests that come while a
        claim runs are served together by the next one."""
        self.fill_wanted = True
        if self.fill_task is None or self.fill_task.done():
            self.fill_task = asyncio.create_task(self.fill_while_wanted())

    async def fill_while_wanted(self) -> None:
        while self.fill_wanted:
            self.fill_wanted = False
            try:
                await self.fill_slots()
            except Exception:
                logger.exception("dispatch to worker %s failed", self.worker_id)

    async def fill_slots(self) -> None:
        if not self.registered or self.draining or self.closed:
            return
        await in_db_thread(self.claim_and_deliver)

    def claim_and_deliver(self) -> None:
        """Fill this worker's free slots in a transaction of its own; the assignments
        leave as it commits."""
        with transaction.atomic():
            lock_worker_slots(self.worker_id)
            deliver_on_commit(self).extend(self.claim_for_me(self.actions))

    def claim_for_me(self, actions: Iterable[str]) -> list[Assignment]:
        """Claim queued step runs of `actions` for this worker's free slots (in the
        caller's transaction, if there is one)."""
        return claim_queued_step_runs(
            tenant_id=self.tenant_id,
            worker_id=self.worker_id,
            worker_name=self.worker_name,
            actions=list(actions),
            # Slots still busy with steps that ended here but run on there are not free.
            slots=self.slots - self.lingering,
        )


def checked_labels(labels: Any) -> dict[str, Any]:
    checked = check_worker_labels(labels)
    if checked is None:
        raise ProtocolError(
            "invalid_field",
            f"'labels' must map at most {MAX_LABELS} names to text, numbers, true or false.",
        )
    return checked


REPORT_KINDS = {
    "step.started": results.STARTED,
    "step.completed": results.COMPLETED,
    "step.failed": results.FAILED,
    "step.refresh_timeout": results.REFRESH_TIMEOUT,
}


def report_of(message: Message) -> Item:
    """The engine's view of a validated step message; raises ProtocolError."""
    item = stored_item_of(message)
    return item if message.unstorable is None else results.Unstorable(item, message.unstorable)


def stored_item_of(message: Message) -> results.Report | results.Line:
    step_run_id, attempt = message["step_run_id"], message["attempt"]
    if message.type in {"step.log", "step.stream"}:
        kind, text = (
            ("log", message["message"])
            if message.type == "step.log"
            else ("stream", message["chunk"])
        )
        level = str(message.get("level", ""))[:16]
        return results.Line(step_run_id, attempt, kind, message["seq"], text, level)
    increment = 0.0
    if message.type == "step.refresh_timeout":
        try:
            increment = parse_duration(message["increment"])
        except ValueError as exc:
            raise ProtocolError("invalid_field", str(exc), message.id) from None
    playground = message.get("playground")
    usage = message.get("usage")
    return results.Report(
        REPORT_KINDS[message.type],
        step_run_id,
        attempt,
        output=message.get("output"),
        playground=playground if isinstance(playground, list) else [],
        usage=usage if isinstance(usage, dict) else None,
        error=str(message.get("error", "")),
        traceback=str(message.get("traceback") or ""),
        retryable=bool(message.get("retryable", True)),
        handed_back=bool(message.get("handed_back", False)),
        timed_out=bool(message.get("timed_out", False)),
        increment_seconds=increment,
        started_at=worker_time(message.get("started_at")),
    )


def worker_time(value: Any) -> datetime | None:
    """A time the worker sends (seconds since the epoch); None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
