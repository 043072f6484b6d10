"""The worker runtime: registers workflows, holds the websocket (docs/protocol.md), runs steps.

One asyncio loop in the thread that calls `start()`; async steps run as tasks on it and sync
steps in daemon threads, at most `max_runs` at once.
"""

import asyncio
import contextlib
import inspect
import json
import logging
import os
import random
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from hatchet.sdk.context import Context
from hatchet.sdk.errors import (
    AuthenticationError,
    HatchetConnectionError,
    HatchetError,
    ServerError,
)
from hatchet.sdk.outbox import Entry, MessageTooLarge, Outbox
from hatchet.sdk.version import SDK_VERSION
from hatchet.sdk.workflow import WorkflowSpec, workflow_spec_of

if TYPE_CHECKING:
    from hatchet.sdk.client import Hatchet

logger = logging.getLogger("hatchet.sdk")

DEFAULT_GRACE_SECONDS = 20.0
_REGISTERED_TIMEOUT = 10.0
_FIRST_RETRY_DELAY = 0.1
_MAX_RETRY_DELAY = 5.0
_OUTBOX_DRAIN_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 3.0
_POLL_INTERVAL = 0.02
# A step that finishes sooner than this sends no step.started: its result records the
# start too (protocol.md), which halves what the server applies for short steps.
_STARTED_DELAY = 0.05
# Keeps a failure report well under any sane message limit, whatever the exception holds.
_MAX_ERROR_CHARS = 64 * 1024
# Close codes of a refused token (docs/security.md): reconnecting with it would be
# refused again. The server's error message may not arrive before the close does.
_REFUSED_CLOSE_CODES = {
    4401: "invalid, missing or revoked",
    4403: "its role may not run workers; use a worker token",
}
# An error about one of our messages with this code is transient; any other code means
# re-sending the same message can never succeed.
_TRANSIENT_ERROR_CODES = {"not_registered"}

StepFunction = Callable[[Context], Any]


@dataclass(eq=False)
class _StepRun:
    """One assignment being run: a (step run, attempt) pair and its context."""

    action: str
    context: Context
    # The wall-clock time the step's code began, sent with its reports.
    started_at: float = 0.0
    # Counts against max_runs until the step's code returns, even once stopped: a sync
    # step's thread cannot be interrupted.
    holds_slot: bool = True
    # The attempt is over for the server (cancelled, timed out, handed or taken back).
    stopped: bool = False
    # The server has the step run back: nothing more is sent about this attempt.
    handed_back: bool = False
    timed_out: bool = False
    deadline: float | None = None
    timer: asyncio.TimerHandle | None = None
    started_timer: asyncio.TimerHandle | None = None
    task: "asyncio.Task[None] | None" = None

    @property
    def step_run_id(self) -> str:
        return self.context.step_run_id

    @property
    def attempt(self) -> int:
        return self.context.attempt

    @property
    def key(self) -> tuple[str, int]:
        return (self.context.step_run_id, self.context.attempt)


class Worker:
    """Runs the steps of its registered workflows for the server; see `start()`."""

    def __init__(
        self,
        client: "Hatchet",
        name: str,
        *,
        max_runs: int = 10,
        labels: dict[str, str] | None = None,
        project_root: str | os.PathLike[str] | None = None,
        grace: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a worker needs a non-empty name")
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
            raise ValueError(f"max_runs must be an integer >= 1, not {max_runs!r}")
        labels = dict(labels or {})
        for key, value in labels.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("labels must map strings to strings")
        if grace is None:
            grace = float(os.environ.get("HATCHET_WORKER_GRACE") or DEFAULT_GRACE_SECONDS)
        if grace < 0:
            raise ValueError(f"grace must not be negative, got {grace!r}")
        self.name = name
        self.max_runs = max_runs
        self.labels = labels
        self.grace = grace
        self.worker_id: str | None = None
        # Shown with worker_id to resume this worker's identity after a reconnect.
        self._resume_key = ""
        self._client = client
        self._project_root_setting = project_root
        self._project_root = Path.cwd()
        self._workflows: list[WorkflowSpec] = []
        self._actions: dict[str, StepFunction] = {}
        self._outbox = Outbox()
        self._runs: dict[tuple[str, int], _StepRun] = {}
        self._stop_requested = threading.Event()
        self._started = False
        self._draining = False
        self._closing = False
        self._registrations = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        self._stop_event: asyncio.Event | None = None
        self._ws: ClientConnection | None = None
        self._send_queue: asyncio.Queue[str] | None = None

    def register_workflow(self, workflow: object) -> None:
        """Offer the steps of a `@workflow` instance (a class is instantiated with no arguments)."""
        if self._started:
            raise RuntimeError("register workflows before start()")
        instance = workflow() if isinstance(workflow, type) else workflow
        spec = workflow_spec_of(instance)
        if any(existing.name == spec.name for existing in self._workflows):
            raise ValueError(f"workflow {spec.name!r} is already registered on this worker")
        for step_spec in spec.steps:
            self._actions[spec.action(step_spec.name)] = getattr(instance, step_spec.name)
        self._workflows.append(spec)

    def start(self) -> None:
        """Register the workflows, connect and run steps until stopped; blocks.

        SIGINT or SIGTERM (or `stop()`) drains: no new work, running steps get `grace`
        seconds, the rest is handed back. A second signal exits the process at once.
        """
        if not self._workflows:
            raise RuntimeError("register at least one workflow before start()")
        if self._started:
            raise RuntimeError("a worker can be started only once")
        self._started = True
        self._project_root = project_root_path(self._project_root_setting)
        asyncio.run(self._main())

    def stop(self) -> None:
        """Ask a running worker to drain and return from `start()`; safe from any thread."""
        self._stop_requested.set()
        loop, stop_event = self._loop, self._stop_event
        if loop is not None and stop_event is not None:
            # RuntimeError: the loop has already closed, so the worker is stopped.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop_event.set)

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._loop_thread_id = threading.get_ident()
        if self._stop_requested.is_set():
            self._stop_event.set()
        signals = self._install_signal_handlers()
        logger.info(
            "worker %s starting: %d slots, actions %s",
            self.name,
            self.max_runs,
            ", ".join(sorted(self._actions)),
        )
        try:
            if not await self._register_workflows():
                return
            connection = asyncio.create_task(self._connection_loop())
            stop_wait = asyncio.create_task(self._stop_event.wait())
            await asyncio.wait({connection, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if connection.done():
                stop_wait.cancel()
                connection.result()
                return
            await self._drain(connection)
        finally:
            for signum in signals:
                self._loop.remove_signal_handler(signum)
        logger.info("worker %s stopped", self.name)

    def _install_signal_handlers(self) -> list[int]:
        installed: list[int] = []
        assert self._loop is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(signum, self._on_signal, signum)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread, or a platform without loop signal handlers
            installed.append(signum)
        return installed

    def _on_signal(self, signum: int) -> None:
        assert self._stop_event is not None
        name = signal.Signals(signum).name
        if self._stop_event.is_set():
            logger.warning("%s again: exiting now without draining", name)
            os._exit(128 + signum)
        logger.info("%s: draining (up to %g s); repeat to exit now", name, self.grace)
        self._stop_requested.set()
        self._stop_event.set()

    async def _register_workflows(self) -> bool:
        """Register every workflow over REST; False if stopped while the server was away."""
        failures = 0
        for spec in self._workflows:
            while True:
                try:
                    answer = await asyncio.to_thread(
                        self._client.admin.register_workflow, spec.to_definition()
                    )
                    break
                except (HatchetConnectionError, ServerError) as exc:
                    log = logger.warning if failures == 0 else logger.debug
                    log("cannot register workflow %s yet: %s; retrying", spec.name, exc)
                except HatchetError as exc:
                    # A refused definition (or token) will be refused again: stop here.
                    raise type(exc)(
                        f"cannot register workflow {spec.name!r}: {exc.message}",
                        status=exc.status,
                        code=exc.code,
                        details=exc.details,
                    ) from exc
                if await self._sleep_unless_stopped(_retry_delay(failures)):
                    return False
                failures += 1
            logger.info(
                "registered workflow %s (version %s)",
                spec.name,
                answer.get("version") if isinstance(answer, dict) else "?",
            )
        return True

    async def _sleep_unless_stopped(self, seconds: float) -> bool:
        """Sleep; True if a stop was requested meanwhile."""
        assert self._stop_event is not None
        try:
            await asyncio.wait_for(self._stop_event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _connection_loop(self) -> None:
        """Keep a registered connection open, reconnecting with backoff, until closing."""
        url = _websocket_url(self._client.server_url)
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
            await asyncio.sleep(_retry_delay(failures))
            failures += 1

    def _auth_error(self, why: str) -> AuthenticationError:
        hint = "" if self._client.token else "; no token: set HATCHET_TOKEN or pass token="
        return AuthenticationError(f"the server refused the worker's token ({why}){hint}")

    async def _serve(self, ws: ClientConnection) -> None:
        """Register on a fresh connection, re-send the outbox, then serve until it closes."""
        register: dict[str, Any] = {
            "type": "register",
            "name": self.name,
            "actions": sorted(self._actions),
            "slots": self.max_runs,
            "labels": self.labels,
            "sdk_version": SDK_VERSION,
        }
        if self.worker_id is not None:
            register["worker_id"] = self.worker_id
            register["resume_key"] = self._resume_key
        await ws.send(json.dumps(register))
        registered = await asyncio.wait_for(_wait_for_registered(ws), _REGISTERED_TIMEOUT)
        if not isinstance(registered.get("worker_id"), str):
            raise ValueError("the server's registered message has no worker_id")
        resumed = self.worker_id is not None
        if resumed and registered["worker_id"] != self.worker_id:
            self._taken_back()
        self.worker_id = registered["worker_id"]
        self._resume_key = str(registered.get("resume_key") or "")
        heartbeat_interval = float(registered.get("heartbeat_interval") or 5.0)
        if registered.get("max_message_bytes"):
            self._take_limit(int(registered["max_message_bytes"]))
        self._registrations += 1
        logger.info(
            "worker %s %s as %s",
            self.name,
            "reconnected" if resumed else "connected",
            self.worker_id,
        )
        if self._draining or self._lingering():
            await self._send_heartbeat(ws)
        # No await between the snapshot and publishing the queue: nothing added in between
        # can be missed, and the re-sent messages keep their original order.
        queue: asyncio.Queue[str] = asyncio.Queue()
        for message_id in self._outbox.pending():
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
                self._handle(message)
            except Exception:
                # One message we cannot handle must not cost the connection.
                logger.exception("failed to handle a %r message", message.get("type"))

    async def _send_outbox(self, ws: ClientConnection, queue: asyncio.Queue[str]) -> None:
        while True:
            message_id = await queue.get()
            text = self._outbox.get(message_id)
            if text is not None:  # None: acked meanwhile
                await ws.send(text)

    async def _heartbeat(self, ws: ClientConnection, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send_heartbeat(ws)

    async def _send_heartbeat(self, ws: ClientConnection) -> None:
        beat = {"type": "heartbeat", "draining": self._draining, "lingering": self._lingering()}
        await ws.send(json.dumps(beat))

    def _beat_soon(self) -> None:
        """Tell the server now, not at the next beat, how many slots are taken by steps
        it considers ended."""
        assert self._loop is not None
        if self._ws is not None:
            self._loop.create_task(self._send_heartbeat_quietly(self._ws))

    async def _send_heartbeat_quietly(self, ws: ClientConnection) -> None:
        # The connection may be gone: the next registration sends the count again.
        with contextlib.suppress(ConnectionClosed):
            await self._send_heartbeat(ws)

    def _lingering(self) -> int:
        """Slots held by steps the server considers ended, whose code still runs."""
        return sum(1 for run in self._runs.values() if run.holds_slot and run.stopped)

    def _handle(self, message: dict[str, Any]) -> None:
        message_type = message.get("type")
        if message_type == "step.assign":
            self._on_assign(message)
        elif message_type == "step.cancel":
            self._on_cancel(message)
        elif message_type == "ack":
            self._outbox.ack(str(message.get("id")))
        elif message_type == "error":
            self._on_error(message)
        else:
            logger.debug("ignoring server message of type %r", message_type)

    def _on_error(self, message: dict[str, Any]) -> None:
        code = message.get("code")
        message_id = message.get("id")
        logger.warning("server error %s: %s", code, message.get("message"))
        if not isinstance(message_id, str) or code in _TRANSIENT_ERROR_CODES:
            return
        refused = self._outbox.take(message_id)
        if refused is None:
            return
        if code == "message_too_large":
            self._on_too_large(refused)
        else:
            logger.warning("dropped message %s: the server will never accept it", message_id)

    def _take_limit(self, max_message_bytes: int) -> None:
        """The server's limit, from its registered: what was kept under a higher one is
        never sent."""
        for refused in self._outbox.set_limit(max_message_bytes):
            self._on_too_large(refused)

    def _on_too_large(self, refused: Entry) -> None:
        """A message the server will never take for its size: a result fails its step
        (re-sent, it would stop the outbox behind it for good); a line is dropped."""
        limit = self._outbox.max_message_bytes
        if refused.type == "step.completed":
            self._enqueue(_output_too_large(refused, refused.size, limit))
        else:
            logger.warning(
                "dropped a %s of step run %s: %d bytes, the server takes at most %s",
                refused.type,
                refused.step_run_id,
                refused.size,
                limit,
            )

    def _on_assign(self, assignment: dict[str, Any]) -> None:
        assert self._loop is not None
        run: _StepRun
        try:
            context = Context(
                assignment,
                send=lambda message: self._submit(run, message),
                project_root=self._project_root,
                client=self._client,
                on_refresh_timeout=lambda seconds: self._call_in_loop(
                    self._extend_deadline, run, seconds
                ),
            )
            run = _StepRun(str(assignment["action"]), context)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("ignoring a malformed step.assign (%s: %s)", type(exc).__name__, exc)
            return
        if run.key in self._runs:
            return  # the same assignment again: it is already running
        if self._draining or self._slots_in_use() >= self.max_runs:
            reason = "worker is draining" if self._draining else "worker has no free slot"
            self._enqueue(_hand_back(run, reason))
            return
        function = self._actions.get(run.action)
        if function is None:
            self._enqueue(
                _failed(run, f"worker {self.name} has no step for action {run.action!r}", "", False)
            )
            return
        self._runs[run.key] = run
        run.started_at = time.time()
        run.started_timer = self._loop.call_later(_STARTED_DELAY, self._report_started, run)
        timeout = assignment.get("timeout_seconds")
        if isinstance(timeout, int | float) and timeout > 0:
            run.deadline = self._loop.time() + timeout
            run.timer = self._loop.call_later(timeout, self._check_deadline, run)
        if inspect.iscoroutinefunction(function):
            run.task = self._loop.create_task(self._run_async(run, function))
        else:
            threading.Thread(
                target=self._run_sync,
                args=(run, function),
                name=f"hatchet-step-{run.action}",
                daemon=True,  # a step that ignores cancellation must not block process exit
            ).start()

    def _report_started(self, run: _StepRun) -> None:
        if run.started_timer is not None:
            run.started_timer.cancel()
            run.started_timer = None
            self._enqueue(run.context._message("step.started", started_at=run.started_at))

    def _on_cancel(self, message: dict[str, Any]) -> None:
        step_run_id = str(message.get("step_run_id"))
        attempt = message.get("attempt")
        for run in list(self._runs.values()):
            if run.step_run_id == step_run_id and attempt in (None, run.attempt):
                self._cancel(run, str(message.get("reason") or "cancelled"))

    def _run_sync(self, run: _StepRun, function: StepFunction) -> None:
        """Body of a sync step's thread; the result goes back to the loop."""
        try:
            output = function(run.context)
        except Exception as exc:
            self._call_in_loop(self._finish, run, None, exc)
        else:
            self._call_in_loop(self._finish, run, output, None)

    async def _run_async(self, run: _StepRun, function: StepFunction) -> None:
        try:
            output = await function(run.context)
        except asyncio.CancelledError:
            # Cancelled for a timeout, step.cancel or hand-back: only a timeout is
            # reported, so the server need not wait for its own clock to notice.
            run.context._mark_finished()
            self._release(run)
            if run.timed_out and not run.handed_back:
                self._enqueue(_timed_out(run))
            raise
        except Exception as exc:
            self._finish(run, None, exc)
        else:
            self._finish(run, output, None)

    def _finish(self, run: _StepRun, output: Any, error: Exception | None) -> None:
        run.context._mark_finished()
        self._release(run)
        if run.handed_back:
            return
        if run.timed_out:
            # Whatever a step returns after its deadline, it timed out.
            self._enqueue(_timed_out(run))
            return
        if error is not None:
            self._enqueue(
                _failed(
                    run,
                    f"{type(error).__name__}: {error}",
                    "".join(traceback.format_exception(error)),
                    True,
                )
            )
            return
        completed = run.context._message(
            "step.completed",
            output=output,
            started_at=run.started_at,
            **run.context._completion_fields(),
        )
        try:
            self._enqueue(completed)
        except MessageTooLarge as exc:
            self._enqueue(_output_too_large(run, exc.size, exc.limit))
        except (TypeError, ValueError) as exc:
            self._enqueue(
                _failed(
                    run,
                    f"{type(exc).__name__}: step output is not JSON-serialisable: {exc}",
                    "",
                    False,
                )
            )

    def _check_deadline(self, run: _StepRun) -> None:
        assert self._loop is not None and run.deadline is not None
        run.timer = None
        remaining = run.deadline - self._loop.time()
        if remaining > 0:  # refresh_timeout moved the deadline
            run.timer = self._loop.call_later(remaining, self._check_deadline, run)
        else:
            run.timed_out = True
            self._cancel(run, "timed_out")

    def _extend_deadline(self, run: _StepRun, seconds: float) -> None:
        assert self._loop is not None
        if run.deadline is not None and not run.stopped:
            run.deadline = max(run.deadline, self._loop.time()) + seconds

    def _cancel(self, run: _StepRun, reason: str) -> None:
        """Flag the step cancelled and stop its timers; an async step's task is cancelled
        too. A sync step cannot be interrupted: its thread runs on, keeping its slot until
        it returns (the server is told, so that it assigns that slot nothing), and its
        late result is still sent (the server ignores it as stale)."""
        if run.stopped:
            return
        logger.info("step run %s (attempt %d) %s", run.step_run_id, run.attempt, reason)
        run.stopped = True
        run.context.cancelled.set()
        _stop_timers(run)
        if run.task is not None:
            run.task.cancel()
        else:
            self._beat_soon()

    def _taken_back(self) -> None:
        """The server registered this worker anew: it declared the old identity dead and
        queued its step runs again, so what still runs here is another's work now."""
        for run in list(self._runs.values()):
            self._cancel(run, "taken back by the server")
            run.handed_back = True

    def _release(self, run: _StepRun) -> None:
        lingered = run.holds_slot and run.stopped and run.task is None
        run.holds_slot = False
        _stop_timers(run)
        if self._runs.get(run.key) is run:
            del self._runs[run.key]
        if lingered:
            self._beat_soon()

    def _slots_in_use(self) -> int:
        return sum(1 for run in self._runs.values() if run.holds_slot)

    def _submit(self, run: _StepRun, message: dict[str, Any]) -> None:
        """Take a message from a step's context, from whichever thread the step runs in."""
        if threading.get_ident() == self._loop_thread_id:
            self._accept_step_message(run, message)
        else:
            self._call_in_loop(self._accept_step_message, run, message)

    def _accept_step_message(self, run: _StepRun, message: dict[str, Any]) -> None:
        if run.handed_back:
            return
        # A log line or a refresh needs the step run to be RUNNING on the server first.
        self._report_started(run)
        try:
            self._enqueue(message)
        except (TypeError, ValueError) as exc:
            logger.warning("dropped a %s of step run %s: %s", message["type"], run.step_run_id, exc)

    def _call_in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        # RuntimeError: the worker has stopped; a late step's messages have nowhere to go.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def _enqueue(self, message: dict[str, Any]) -> None:
        """Put a result message in the outbox and, when connected, on the wire."""
        message_id = self._outbox.add(message)
        if self._send_queue is not None:
            self._send_queue.put_nowait(message_id)

    async def _drain(self, connection: "asyncio.Task[None]") -> None:
        """protocol.md lifecycle step 6."""
        self._draining = True
        logger.info("worker %s draining: %d steps running", self.name, self._slots_in_use())
        if self._ws is not None:
            # If the connection is gone, the next registration sends it again.
            with contextlib.suppress(ConnectionClosed):
                await self._send_heartbeat(self._ws)
        await _wait_until(lambda: self._slots_in_use() == self._lingering(), self.grace)
        for run in [run for run in self._runs.values() if not run.stopped]:
            self._cancel(run, "handed back")
            run.handed_back = True
            self._enqueue(_hand_back(run, "worker shutting down"))
        await _wait_until(lambda: len(self._outbox) == 0, _OUTBOX_DRAIN_TIMEOUT)
        if self._outbox:
            logger.warning("stopping with %d unacknowledged messages", len(self._outbox))
        self._closing = True
        if self._ws is not None:
            await self._ws.close(1000, "worker stopped")
        connection.cancel()
        await asyncio.gather(connection, return_exceptions=True)


def _stop_timers(run: _StepRun) -> None:
    """A step.started not sent yet never is: the result (or the cancellation) stands for
    it."""
    for timer in (run.timer, run.started_timer):
        if timer is not None:
            timer.cancel()
    run.timer = run.started_timer = None


def project_root_path(setting: str | os.PathLike[str] | None) -> Path:
    """Where call sites are relative to: the argument, else HATCHET_PROJECT_ROOT, else cwd."""
    return Path(setting or os.environ.get("HATCHET_PROJECT_ROOT") or os.getcwd()).resolve()


def _failed(run: _StepRun | Entry, error: str, trace: str, retryable: bool) -> dict[str, Any]:
    failed: dict[str, Any] = {
        "type": "step.failed",
        "step_run_id": run.step_run_id,
        "attempt": run.attempt,
        "error": error[:_MAX_ERROR_CHARS],
        "traceback": trace[-_MAX_ERROR_CHARS:],
        "retryable": retryable,
    }
    if run.started_at:
        failed["started_at"] = run.started_at
    return failed


def _output_too_large(run: _StepRun | Entry, size: int, limit: int | None) -> dict[str, Any]:
    """The step's failure in place of a result the server cannot take: retrying would
    make the same output."""
    return _failed(
        run, f"output too large: {size} bytes, the server takes at most {limit}", "", False
    )


def _timed_out(run: _StepRun) -> dict[str, Any]:
    return {**_failed(run, "timed out", "", True), "timed_out": True}


def _hand_back(run: _StepRun, reason: str) -> dict[str, Any]:
    return {**_failed(run, reason, "", True), "handed_back": True}


async def _wait_for_registered(ws: ClientConnection) -> dict[str, Any]:
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


async def _wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(_POLL_INTERVAL)


def _retry_delay(failures: int) -> float:
    """Exponential backoff from 0.1 s to 5 s, with jitter so workers do not reconnect in step."""
    delay = min(_MAX_RETRY_DELAY, _FIRST_RETRY_DELAY * 2**failures)
    return delay * random.uniform(0.5, 1.0)


def _websocket_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"cannot derive a websocket URL from server_url {server_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/worker", "", ""))
