"""Hands queued step runs to connected workers, from the process that holds their
sockets, and carries stop orders to them.

Each server process has one Dispatcher. The engine announces queued actions and
stops after commit; the announcement wakes this process's dispatcher directly and,
with Redis configured, every other process through one pub/sub message per batch.
A periodic look at the queue covers any wake-up lost on the way.
"""

import asyncio
import contextlib
import functools
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Coroutine, Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hatchet.concurrency import in_db_thread
from workers.models import ServerNode
from workflows.engine.queue import Assignment
from workflows.signals import StepStop, step_runs_queued, step_runs_queueing, step_runs_stopped

logger = logging.getLogger(__name__)

PUBSUB_CHANNEL = "hatchet:dispatch"
# Tells a process its own messages apart from those of other processes.
SENDER = uuid.uuid4().hex
# This process as a server node: the worker sockets it holds name it on their workers.
NODE = f"{socket.gethostname()}:{os.getpid()}"


class WorkerConnection(Protocol):
    worker_id: UUID
    tenant_id: Any
    draining: bool
    actions: list[str]

    def request_fill(self) -> None: ...

    async def close_stopped(self) -> None: ...

    def claim_for_me(self, actions: set[str]) -> list[Assignment]: ...

    async def send_message(self, message: dict[str, Any]) -> None: ...


def stop_message(stop: StepStop) -> dict[str, Any]:
    return {
        "type": "step.cancel",
        "step_run_id": str(stop.step_run_id),
        "attempt": stop.attempt,
        "reason": stop.reason,
    }


class Dispatcher:
    def __init__(self) -> None:
        self.connections: dict[UUID, WorkerConnection] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake_event: asyncio.Event | None = None
        # Actions whose queues gained work since the last pass; None means all.
        self.woken_actions: set[str] | None = set()
        self.loop_thread: int | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the dispatch loop on the running event loop (once per process)."""
        if self.loop is not None:
            return
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.wake_event = asyncio.Event()
        self.tasks.append(self.loop.create_task(self.dispatch_forever()))
        self.tasks.append(self.loop.create_task(self.beat_forever()))
        if settings.REDIS_URL:
            self.tasks.append(self.loop.create_task(self.listen_forever()))

    def attach(self, connection: WorkerConnection) -> None:
        self.start()
        self.connections[connection.worker_id] = connection
        self.wake()

    def detach(self, connection: WorkerConnection) -> None:
        if self.connections.get(connection.worker_id) is connection:
            del self.connections[connection.worker_id]

    def wake(self, actions: Iterable[str] | None = None) -> None:
        """Have the workers serving `actions` (all, if None) claim; safe from any thread,
        a no-op in a process that serves no sockets."""
        if self.loop is None or self.wake_event is None:
            return
        if self.is_loop_thread():
            self.note_wake(actions)
        else:
            self.loop.call_soon_threadsafe(self.note_wake, actions)

    def note_wake(self, actions: Iterable[str] | None) -> None:
        if self.wake_event is None:
            raise RuntimeError("the dispatcher has not started")
        if actions is None or self.woken_actions is None:
            self.woken_actions = None
        else:
            self.woken_actions.update(actions)
        self.wake_event.set()

    def is_loop_thread(self) -> bool:
        return self.loop_thread == threading.get_ident()

    def deliver(self, connection: WorkerConnection, assignments: list[Assignment]) -> None:
        """Send assignments made outside the loop (after their transaction committed)."""
        if self.loop is None:
            raise RuntimeError("the dispatcher has not started")
        if not assignments:
            return

        async def send_all() -> None:
            for assignment in assignments:
                await connection.send_message(assignment.as_message())

        self.submit(send_all())

    def deliver_stop(self, stop: StepStop) -> bool:
        """Send a stop order to the worker if its socket is here; True if it was."""
        connection = self.connections.get(stop.worker_id)
        if connection is None or self.loop is None:
            return False
        self.submit(connection.send_message(stop_message(stop)))
        return True

    async def dispatch_forever(self) -> None:
        if self.wake_event is None:
            raise RuntimeError("the dispatcher has not started")
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.wake_event.wait(), settings.HATCHET_DISPATCH_POLL_INTERVAL
                )
            # A timeout (no wake-up) looks at every worker's queue.
            woken = self.woken_actions if self.wake_event.is_set() else None
            self.wake_event.clear()
            self.woken_actions = set()
            for connection in list(self.connections.values()):
                if not connection.draining and (woken is None or woken & set(connection.actions)):
                    connection.request_fill()

    async def beat_forever(self) -> None:
        """Record that this node is up, so that the silence of its workers is theirs."""
        started_at = timezone.now()
        while True:
            try:
                await in_db_thread(record_node_beat, NODE, started_at)
            except Exception:
                logger.warning("could not record this server node's beat", exc_info=True)
            await asyncio.sleep(settings.HATCHET_HEARTBEAT_INTERVAL)

    def close_stopped(self, worker_ids: Iterable[UUID]) -> set[UUID]:
        """Close the sockets here of workers declared dead; the ids of the others."""
        elsewhere = set()
        for worker_id in worker_ids:
            connection = self.connections.get(worker_id)
            if connection is None or self.loop is None:
                elsewhere.add(worker_id)
            else:
                self.submit(connection.close_stopped())
        return elsewhere

    def submit(self, coroutine: Coroutine[Any, Any, None]) -> None:
        if self.loop is None:
            raise RuntimeError("the dispatcher has not started")
        if self.is_loop_thread():
            self.loop.create_task(coroutine)
        else:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def listen_forever(self) -> None:
        import redis.asyncio as redis

        while True:
            try:
                client = redis.Redis.from_url(settings.REDIS_URL)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(PUBSUB_CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.on_published(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("dispatch pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    def on_published(self, message: dict[str, Any]) -> None:
        if message.get("sender") == SENDER:
            return  # this process acted on it when it published it
        if message["kind"] == "wake":
            self.wake(message.get("actions"))
        elif message["kind"] == "stopped":
            self.close_stopped(UUID(worker_id) for worker_id in message["worker_ids"])
        elif message["kind"] == "stop":
            self.deliver_stop(
                StepStop(
                    UUID(message["worker_id"]),
                    UUID(message["step_run_id"]),
                    message["attempt"],
                    message["reason"],
                )
            )


dispatcher = Dispatcher()
_publisher: Any = None


def publish(message: dict[str, Any]) -> None:
    """Tell every server process; only when Redis joins them."""
    global _publisher
    if not settings.REDIS_URL:
        return
    if _publisher is None:
        import redis

        _publisher = redis.Redis.from_url(settings.REDIS_URL)
    try:
        _publisher.publish(PUBSUB_CHANNEL, json.dumps({**message, "sender": SENDER}))
    except Exception:
        # The periodic look at the queue picks up what a lost wake-up leaves behind.
        logger.warning("could not publish a dispatch message", exc_info=True)


def record_node_beat(name: str, started_at: datetime) -> None:
    now = timezone.now()
    updated = ServerNode.objects.filter(name=name).update(seen_at=now)
    if not updated:
        ServerNode.objects.bulk_create(
            [ServerNode(name=name, started_at=started_at, seen_at=now)],
            update_conflicts=True,
            unique_fields=["name"],
            update_fields=["seen_at"],
        )


def close_sockets_of(worker_ids: list[UUID]) -> None:
    """Workers declared dead lose their sockets, wherever they are: a hung worker must
    not be sent more work, and when it wakes it registers anew."""
    elsewhere = dispatcher.close_stopped(worker_ids)
    if elsewhere:
        publish({"kind": "stopped", "worker_ids": sorted(str(w) for w in elsewhere)})


def on_step_runs_queued(actions: set[str], **kwargs: Any) -> None:
    dispatcher.wake(actions)
    publish({"kind": "wake", "actions": sorted(actions)})


def on_step_runs_queueing(actions_by_tenant: dict[Any, set[str]], **kwargs: Any) -> set[UUID]:
    """Assign what a transaction queues to this process's workers with free slots, in
    that transaction: the assignment leaves as the transaction commits, without a
    wake-up and a claim of its own (the trigger-to-start path). Returns the ids of
    the step runs assigned."""
    assigned: set[UUID] = set()
    if dispatcher.loop is None:
        return assigned
    for connection in list(dispatcher.connections.values()):
        actions = actions_by_tenant.get(connection.tenant_id, set()) & set(connection.actions)
        if connection.draining or not actions:
            continue
        assignments = deliver_on_commit(connection)
        assignments.extend(connection.claim_for_me(actions))
        assigned.update(assignment.step_run_id for assignment in assignments)
    return assigned


def deliver_on_commit(connection: WorkerConnection) -> list[Assignment]:
    """A list whose assignments go to the worker once the transaction commits. Take it
    before claiming: its hook then runs ahead of those the claim registers (live
    updates, which ask Redis which runs are watched), so the work leaves first."""
    assignments: list[Assignment] = []
    transaction.on_commit(functools.partial(dispatcher.deliver, connection, assignments))
    return assignments


def on_step_runs_stopped(stops: list[StepStop], **kwargs: Any) -> None:
    for stop in stops:
        if not dispatcher.deliver_stop(stop):
            publish(
                {
                    "kind": "stop",
                    "worker_id": str(stop.worker_id),
                    "step_run_id": str(stop.step_run_id),
                    "attempt": stop.attempt,
                    "reason": stop.reason,
                }
            )


def subscribe_to_engine() -> None:
    step_runs_queued.connect(on_step_runs_queued, dispatch_uid="workers.dispatch.queued")
    step_runs_queueing.connect(on_step_runs_queueing, dispatch_uid="workers.dispatch.queueing")
    step_runs_stopped.connect(on_step_runs_stopped, dispatch_uid="workers.dispatch.stopped")
