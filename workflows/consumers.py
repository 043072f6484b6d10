"""The run websocket (a snapshot of the run, then its updates as they happen) and the
client websocket (triggers and events without an HTTP request each)."""

import asyncio
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import exceptions
from typing_extensions import override

from hatchet.api import error_response, json_error_handler
from hatchet.auth import Caller
from hatchet.concurrency import in_db_thread
from hatchet.db import once_more_if_nothing_written
from hatchet.messages import ANY, Message, ProtocolError, parse_message
from hatchet.models import Role, role_allows
from hatchet.sockets import Socket, WatchConsumer
from workflows import handlers
from workflows.live import RunWatch, SentLines, run_group
from workflows.models import StepRunLine, WorkflowRun


def run_snapshot(tenant_id: Any, run_id: str) -> dict[str, Any] | None:
    run = WorkflowRun.objects.filter(tenant_id=tenant_id, pk=run_id).first()
    if run is None:
        return None
    step_runs = list(run.step_runs.select_related("step"))
    lines = StepRunLine.objects.filter(step_run__workflow_run=run).order_by("created_at", "seq")
    return {
        "type": "run.snapshot",
        "run_id": str(run.id),
        "status": run.status,
        "step_runs": [
            {
                "step_run_id": str(s.id),
                "step": s.step.name,
                "status": s.status,
                "attempt": s.attempt,
            }
            for s in step_runs
        ],
        "lines": [line.as_message() for line in lines],
    }


class RunConsumer(WatchConsumer):
    watch: RunWatch | None = None
    sent_lines: SentLines
    # The run's status and its step runs' (status, attempt) as this socket last said.
    shown: dict[str, Any]

    def group_name(self, kwargs: dict[str, Any]) -> str:
        return run_group(kwargs["run_id"])

    async def start_watching(self, kwargs: dict[str, Any]) -> None:
        self.watch = RunWatch([kwargs["run_id"]], self.read_again_in_turn)
        await self.watch.start()

    async def stop_watching(self) -> None:
        if self.watch is not None:
            await self.watch.stop()

    def snapshot(self, tenant_id: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        self.tenant_id, self.run_id = tenant_id, kwargs["run_id"]
        snapshot = run_snapshot(tenant_id, self.run_id)
        self.sent_lines = SentLines(snapshot["lines"] if snapshot else ())
        self.shown = shown_by(snapshot) if snapshot else {}
        return snapshot

    async def read_again_in_turn(self) -> None:
        # Through the socket's own channel: read after the updates already queued, so
        # that what it sends is never older than an update it sent before.
        await self.channel_layer.send(self.channel_name, {"type": "run.read_again"})

    async def run_read_again(self, _event: dict[str, Any]) -> None:
        """The run as it is now, sent when it differs from what the socket said: an
        update committed before a process saw this socket's mark went unsent."""
        snapshot = await database_sync_to_async(run_snapshot)(self.tenant_id, self.run_id)
        if snapshot is None:
            return
        unsent = [line for line in snapshot["lines"] if self.sent_lines.is_new(line)]
        shown = shown_by(snapshot)
        if unsent or shown != self.shown:
            self.shown = shown
            await self.send_json(snapshot)

    async def run_updates(self, event: dict[str, Any]) -> None:
        for update in event["updates"]:
            if update["type"] == "run.status":
                self.shown["status"] = update["status"]
            elif update["type"] == "step_run.status":
                self.shown[update["step_run_id"]] = (update["status"], update["attempt"])
            elif not self.sent_lines.is_new(update):
                continue
            await self.send_json(update)


def shown_by(snapshot: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"status": snapshot["status"]}
    for step_run in snapshot["step_runs"]:
        shown[step_run["step_run_id"]] = (step_run["status"], step_run["attempt"])
    return shown


logger = logging.getLogger(__name__)

# Each request carries the body its REST twin takes, beside "type" and "id".
CLIENT_MESSAGES: dict[str, dict[str, Any]] = {
    "run.trigger": {"id": str, "workflow": str},
    "runs.trigger": {"id": str, "workflow": str, "runs": ANY},
    "event.push": {"id": str},
}
# Requests of one socket answered at once; beyond it the socket stops reading.
MAX_IN_FLIGHT = 32


def answer(caller: Caller, message: Message) -> dict[str, Any]:
    """Serve one request in a database thread; the reply carries what REST would
    answer: the body, or the error with its HTTP status."""
    body = {k: v for k, v in message.fields.items() if k not in ("type", "id", "workflow")}

    def serve() -> Any:
        if message.type == "run.trigger":
            return handlers.trigger_run(caller.tenant, message["workflow"], body)
        if message.type == "runs.trigger":
            return handlers.trigger_runs(caller.tenant, message["workflow"], body)
        return handlers.push(caller.tenant, body)

    try:
        if not role_allows(caller.role, Role.EDITOR):
            raise exceptions.PermissionDenied(f"This needs the {Role.EDITOR} role.")
        # As REST does: a connection lost under a request that changed nothing costs
        # the caller no error (the fault suite met a 500 here).
        result = once_more_if_nothing_written(serve, lambda: None)
    except Exception as error:
        response = json_error_handler(error, {})
        if response is None:
            logger.exception("client request %s failed", message.type)
            response = error_response(
                500, "server_error", "The server failed; the error was logged."
            )
        return {"type": "error", "id": message.id, "status": response.status_code, **response.data}
    return {"type": "result", "id": message.id, "body": result}


class ClientConsumer(Socket):
    """A program's lasting socket for what it does often: trigger runs and push
    events. Each request is {"type", "id", ...the REST body} and is answered, in any
    order, by {"type": "result", "id", "body"} or {"type": "error", "id", "status",
    "error"}; a socket without a valid token, or with a worker token, is refused at the
    handshake (HTTP 403), and one whose token is revoked is closed with 4401."""

    async def connect(self) -> None:
        caller: Caller | None = self.scope.get("caller")
        if caller is None or not self.may_use(caller):
            await self.close()
            return
        if not await self.follow_caller(caller):
            return  # refused, at the handshake
        self.in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.tasks: set[asyncio.Task[None]] = set()
        await self.accept()

    @override
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            if text_data is None:
                raise ProtocolError("malformed_json", "Send JSON text frames, not binary ones.")
            message = parse_message(text_data, settings.HATCHET_MAX_MESSAGE_BYTES, CLIENT_MESSAGES)
        except ProtocolError as error:
            await self.send_json(error.as_message())
            return
        await self.in_flight.acquire()
        task = asyncio.create_task(self.serve(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def serve(self, message: Message) -> None:
        if self.caller is None:
            raise RuntimeError("the socket has not been accepted")
        try:
            reply = await in_db_thread(answer, self.caller, message)
        finally:
            self.in_flight.release()
        await self.send_json(reply)

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, cls=DjangoJSONEncoder))
