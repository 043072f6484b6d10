"""The worker's websocket (docs/protocol.md): connects and registers, reconnects with
backoff, beats, hands the server's messages to the step runner and sends the outbox,
re-sending what is not acked yet after every reconnect."""

import asyncio
import contextlib
import json
import logging
import random
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from hatchet.sdk.errors import AuthenticationError, InvalidRequestError, NonDeterministicError
from hatchet.sdk.outbox import Entry, Outbox
from hatchet.sdk.runner import Message, StepRunner, output_too_large
from hatchet.sdk.version import SDK_VERSION

if TYPE_CHECKING:
    from hatchet.sdk.client import Hatchet

logger = logging.getLogger("hatchet.sdk")

_REGISTERED_TIMEOUT = 10.0
_FIRST_RETRY_DELAY = 0.1
_MAX_RETRY_DELAY = 5.0
_CLOSE_TIMEOUT = 3.0
# Close codes of a refused token (docs/security.md): reconnecting with it would be
# refused again. The server's error message may not arrive before the close does.
_REFUSED_CLOSE_CODES = {
    4401: "invalid, missing or revoked",
    4403: "its role may not run workers; use a worker token",
}
# An error about one of our messages with this code is transient; any other code means
# re-sending the same message can never succeed.
_TRANSIENT_ERROR_CODES = {"not_registered"}


class WorkerConnection:
    """One worker's registered connection, kept open until `close()`; its outbox keeps
    the result messages until the server acks them."""

    def __init__(
        self,
        client: "Hatchet",
        *,
        name: str,
        labels: dict[str, Any],
        steps: StepRunner,
    ) -> None:
        self.name = name
        self.labels = labels
        self.steps = steps
        self.outbox = Outbox()
        self.worker_id: str | None = None
        # Shown with worker_id to resume this worker's identity after a reconnect.
        self._resume_key = ""
        self._client = client
        self._closing = False
        self._registrations = 0
        self._ws: ClientConnection | None = None
        self._send_queue: asyncio.Queue[str] | None = None
        # The answers awaited for the requests in the outbox, by message id.
        self._answers: dict[str, asyncio.Future[Message]] = {}

    async def run(self) -> None:
        """Keep a registered connection open, reconnecting with backoff, until closing;
        raises AuthenticationError if the server refuses the token."""
        url = websocket_url(self._client.server_url)
        headers = {"Authorization": f"Bearer {self._client.token}"} if self._client.token else {}
        failures = 0
        while not self._closing:
            registrations = self._registrations
            try:
                async with connect(
                    url,
                    additional_headers=headers,
                    user_agent_header=f"hatchet-sdk-python/{SDK_VERSION}",
                    open_timeout=_REGISTERED_TIMEOUT,
                    close_timeout=_CLOSE_TIMEOUT,
                    max_size=None,
                ) as ws:
                    await self._serve(ws)
                problem = f"connection closed ({ws.close_code} {ws.close_reason})".strip()
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    raise self._auth_error(f"HTTP {status}") from exc
                problem = f"handshake refused with HTTP {status}"
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code in _REFUSED_CLOSE_CODES:
                    code = exc.rcvd.code
                    raise self._auth_error(
                        f"close code {code}: {_REFUSED_CLOSE_CODES[code]}"
                    ) from exc
                problem = str(exc)
            except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
                problem = str(exc) or type(exc).__name__
            if self._closing:
                return
            if self._registrations != registrations:
                failures = 0
            log = logger.warning if failures == 0 else logger.debug
            log("worker connection to %s lost: %s; reconnecting", url, problem)
            await asyncio.sleep(retry_delay(failures))
            failures += 1

    def enqueue(self, message: Message) -> None:
        """Put a result message in the outbox and, when connected, on the wire.

        Raises TypeError or ValueError if it is not JSON-serialisable, MessageTooLarge if
        it is over the server's limit."""
        message_id = self.outbox.add(message)
        if self._send_queue is not None:
            self._send_queue.put_nowait(message_id)

    def request(self, message: Message) -> "asyncio.Future[Message]":
        """Send a step's request (kept in the outbox, re-sent until answered); the future
        is the `result` of its ack, or the error the server answered with. Call on the
        loop."""
        answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        message_id = self.outbox.add(message)
        self._answers[message_id] = answer

        def forget(done: "asyncio.Future[Message]") -> None:
            # A step let go (cancelled) no longer wants it: it is not sent again.
            self._answers.pop(message_id, None)
            if done.cancelled():
                self.outbox.take(message_id)

        answer.add_done_callback(forget)
        if self._send_queue is not None:
            self._send_queue.put_nowait(message_id)
        return answer

    def beat_soon(self) -> None:
        """Tell the server now, not at the next beat, how many slots are taken by steps
        it considers ended."""
        if self._ws is not None:
            asyncio.get_running_loop().create_task(self._send_heartbeat_quietly(self._ws))

    async def send_labels(self) -> None:
        """Tell the server the worker's labels now; if the connection is gone, the next
        registration carries them."""
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self._ws.send(json.dumps({"type": "labels", "labels": self.labels}))

    async def announce_draining(self) -> None:
        """Tell the server now that no new work is taken; if the connection is gone, the
        next registration says it."""
        if self._ws is not None:
            await self._send_heartbeat_quietly(self._ws)

    async def close(self) -> None:
        """Stop reconnecting and close the connection; `run()` returns."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close(1000, "worker stopped")

    def handle(self, message: Message) -> None:
        message_type = message.get("type")
        if message_type == "step.assign":
            self.steps.on_assign(message)
        elif message_type == "step.cancel":
            self.steps.on_cancel(message)
        elif message_type == "ack":
            message_id = str(message.get("id"))
            self.outbox.ack(message_id)
            answer = self._answers.pop(message_id, None)
            if answer is not None and not answer.done():
                result = message.get("result")
                answer.set_result(result if isinstance(result, dict) else {})
        elif message_type == "error":
            self._on_error(message)
        else:
            logger.debug("ignoring server message of type %r", message_type)

    def take_limit(self, max_message_bytes: int) -> None:
        """The server's limit, from its registered: what was kept under a higher one is
        never sent."""
        for refused in self.outbox.set_limit(max_message_bytes):
            self._on_too_large(refused)

    async def send_heartbeat(self, ws: ClientConnection) -> None:
        beat = {
            "type": "heartbeat",
            "draining": self.steps.draining,
            "lingering": self.steps.lingering(),
            "running": self.steps.running(),
        }
        await ws.send(json.dumps(beat))

    def _auth_error(self, why: str) -> AuthenticationError:
        hint = "" if self._client.token else "; no token: set HATCHET_TOKEN or pass token="
        return AuthenticationError(f"the server refused the worker's token ({why}){hint}")

    async def _serve(self, ws: ClientConnection) -> None:
        """Register on a fresh connection, re-send the outbox, then serve until it closes."""
        register: Message = {
            "type": "register",
            "name": self.name,
            "actions": sorted(self.steps.actions),
            "slots": self.steps.max_runs,
            "labels": self.labels,
            "sdk_version": SDK_VERSION,
        }
        if self.worker_id is not None:
            register["worker_id"] = self.worker_id
            register["resume_key"] = self._resume_key
        await ws.send(json.dumps(register))
        registered = await asyncio.wait_for(_wait_for_registered(ws), _REGISTERED_TIMEOUT)
        worker_id = registered.get("worker_id")
        if not isinstance(worker_id, str):
            raise ValueError("the server's registered message has no worker_id")
        resumed = self.worker_id is not None
        if resumed and worker_id != self.worker_id:
            self.steps.taken_back()
        self.worker_id = worker_id
        self._resume_key = str(registered.get("resume_key") or "")
        heartbeat_interval = float(registered.get("heartbeat_interval") or 5.0)
        if registered.get("max_message_bytes"):
            self.take_limit(int(registered["max_message_bytes"]))
        self._registrations += 1
        logger.info(
            "worker %s %s as %s",
            self.name,
            "reconnected" if resumed else "connected",
            self.worker_id,
        )
        if self.steps.draining or self.steps.lingering():
            await self.send_heartbeat(ws)
        # No await between the snapshot and publishing the queue: nothing added in between
        # can be missed, and the re-sent messages keep their original order.
        queue: asyncio.Queue[str] = asyncio.Queue()
        for message_id in self.outbox.pending():
            queue.put_nowait(message_id)
        self._ws, self._send_queue = ws, queue
        tasks = [
            asyncio.create_task(self._receive(ws)),
            asyncio.create_task(self._send_outbox(ws, queue)),
            asyncio.create_task(self._heartbeat(ws, heartbeat_interval)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self._ws, self._send_queue = None, None
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _receive(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                message = json.loads(raw)
            except ValueError:
                logger.warning("ignoring a server message that is not JSON")
                continue
            if not isinstance(message, dict):
                continue
            try:
                self.handle(message)
            except Exception:
                # One message we cannot handle must not cost the connection.
                logger.exception("failed to handle a %r message", message.get("type"))

    async def _send_outbox(self, ws: ClientConnection, queue: "asyncio.Queue[str]") -> None:
        while True:
            message_id = await queue.get()
            text = self.outbox.get(message_id)
            if text is not None:  # None: acked meanwhile
                await ws.send(text)

    async def _heartbeat(self, ws: ClientConnection, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.send_heartbeat(ws)

    async def _send_heartbeat_quietly(self, ws: ClientConnection) -> None:
        # The connection may be gone: the next registration sends the count again.
        with contextlib.suppress(ConnectionClosed):
            await self.send_heartbeat(ws)

    def _on_error(self, message: Message) -> None:
        code = message.get("code")
        message_id = message.get("id")
        logger.warning("server error %s: %s", code, message.get("message"))
        if not isinstance(message_id, str) or code in _TRANSIENT_ERROR_CODES:
            return
        refused = self.outbox.take(message_id)
        if refused is None:
            return
        answer = self._answers.pop(message_id, None)
        if answer is not None:
            if not answer.done():
                answer.set_exception(refusal(str(code), str(message.get("message"))))
            return
        if code == "message_too_large":
            self._on_too_large(refused)
        else:
            logger.warning("dropped message %s: the server will never accept it", message_id)

    def _on_too_large(self, refused: Entry) -> None:
        """A message the server will never take for its size: a result fails its step
        (re-sent, it would stop the outbox behind it for good); a line is dropped."""
        limit = self.outbox.max_message_bytes
        if refused.type == "step.completed":
            self.enqueue(output_too_large(refused, refused.size, limit))
        else:
            logger.warning(
                "dropped a %s of step run %s: %d bytes, the server takes at most %s",
                refused.type,
                refused.step_run_id,
                refused.size,
                limit,
            )


async def _wait_for_registered(ws: ClientConnection) -> Message:
    while True:
        try:
            message = json.loads(await ws.recv())
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if message.get("type") == "registered":
            return message
        if message.get("type") == "error":
            logger.warning(
                "server refused register: %s: %s", message.get("code"), message.get("message")
            )


def refusal(code: str, message: str) -> Exception:
    """The exception a step's request raises when the server refuses it."""
    if code == "nondeterministic":
        return NonDeterministicError(message)
    return InvalidRequestError(message, code=code)


def retry_delay(failures: int) -> float:
    """Exponential backoff from 0.1 s to 5 s, with jitter so workers do not reconnect in step."""
    delay: float = min(_MAX_RETRY_DELAY, _FIRST_RETRY_DELAY * 2**failures)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


def websocket_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"cannot derive a websocket URL from server_url {server_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/worker", "", ""))
