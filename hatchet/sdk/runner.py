"""The worker's step runner: runs assigned steps, at most `max_runs` at once, with their
deadlines and cancellation, and turns how each ended into its result message.

Async steps run as tasks on the worker's loop, sync steps in daemon threads; everything
else here runs on the loop.
"""

import asyncio
import contextlib
import inspect
import logging
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatchet.sdk.context import Context
from hatchet.sdk.durable import Suspended
from hatchet.sdk.errors import NonRetryableError
from hatchet.sdk.outbox import Entry, MessageTooLarge
from hatchet.sdk.tracing import step_span

logger = logging.getLogger("hatchet.sdk")

# A step that finishes sooner than this sends no step.started: its result records the
# start too (protocol.md), which halves what the server applies for short steps.
STARTED_DELAY = 0.05
# Keeps a failure report well under any sane message limit, whatever the exception holds.
_MAX_ERROR_CHARS = 64 * 1024

StepFunction = Callable[[Context], Any]
Message = dict[str, Any]


@dataclass(eq=False)
class StepRun:
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
    # The server's span of the step run, that this attempt's span goes under.
    traceparent: Any = None

    @property
    def step_run_id(self) -> str:
        return self.context.step_run_id

    @property
    def attempt(self) -> int:
        return self.context.attempt

    @property
    def key(self) -> tuple[str, int]:
        return (self.context.step_run_id, self.context.attempt)

    def stop_timers(self) -> None:
        """A step.started not sent yet never is: the result (or the cancellation) stands
        for it."""
        for timer in (self.timer, self.started_timer):
            if timer is not None:
                timer.cancel()
        self.timer = self.started_timer = None


class StepRunner:
    """The worker's steps: `on_assign` starts one if a slot is free, and each one's end
    goes to `report` as a message for the server."""

    def __init__(
        self,
        worker_name: str,
        max_runs: int,
        actions: dict[str, StepFunction],
        *,
        report: Callable[[Message], None],
        ask: Callable[[Message], "asyncio.Future[Message]"],
        beat_soon: Callable[[], None],
    ) -> None:
        self.worker_name = worker_name
        self.max_runs = max_runs
        self.project_root = Path.cwd()
        # No new work is taken: the worker is stopping.
        self.draining = False
        self.runs: dict[tuple[str, int], StepRun] = {}
        self.actions = actions
        self._report = report
        # Sends a request of a running step; the future is its answer's result.
        self._send_request = ask
        # Tells the server at once when the count of lingering slots changes.
        self._beat_soon = beat_soon
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None

    def run_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on this loop, the worker's; called from its thread."""
        self._loop = loop
        self._loop_thread_id = threading.get_ident()

    def slots_in_use(self) -> int:
        return sum(1 for run in self.runs.values() if run.holds_slot)

    def lingering(self) -> int:
        """Slots held by steps the server considers ended, whose code still runs."""
        return sum(1 for run in self.runs.values() if run.holds_slot and run.stopped)

    def running(self) -> list[Message]:
        """The attempts running here that the server has not stopped, for the heartbeat:
        the server stops again any it no longer holds, in case a stop order was lost."""
        return [
            {"step_run_id": run.step_run_id, "attempt": run.attempt}
            for run in self.runs.values()
            if not run.stopped
        ]

    def on_assign(self, assignment: Message) -> None:
        loop = self._running_loop()
        run: StepRun
        try:
            context = Context(
                assignment,
                send=lambda message: self._submit(run, message),
                project_root=self.project_root,
                on_refresh_timeout=lambda seconds: self._call_in_loop(
                    self._extend_deadline, run, seconds
                ),
                request=lambda message: self._ask(run, message),
                loop=loop,
                on_loop=lambda: threading.get_ident() == self._loop_thread_id,
            )
            run = StepRun(
                str(assignment["action"]), context, traceparent=assignment.get("traceparent")
            )
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("ignoring a malformed step.assign (%s: %s)", type(exc).__name__, exc)
            return
        if run.key in self.runs:
            return  # the same assignment again: it is already running
        if self.draining or self.slots_in_use() >= self.max_runs:
            reason = "worker is draining" if self.draining else "worker has no free slot"
            self._report(hand_back(run, reason))
            return
        function = self.actions.get(run.action)
        if function is None:
            self._report(
                failed(
                    run,
                    f"worker {self.worker_name} has no step for action {run.action!r}",
                    "",
                    retryable=False,
                )
            )
            return
        self.runs[run.key] = run
        run.started_at = time.time()
        run.started_timer = loop.call_later(STARTED_DELAY, self._report_started, run)
        timeout = assignment.get("timeout_seconds")
        if isinstance(timeout, int | float) and timeout > 0:
            run.deadline = loop.time() + timeout
            run.timer = loop.call_later(timeout, self._check_deadline, run)
        if inspect.iscoroutinefunction(function):
            run.task = loop.create_task(self._run_async(run, function))
        else:
            threading.Thread(
                target=self._run_sync,
                args=(run, function),
                name=f"hatchet-step-{run.action}",
                daemon=True,  # a step that ignores cancellation must not block process exit
            ).start()

    def on_cancel(self, message: Message) -> None:
        step_run_id = str(message.get("step_run_id"))
        attempt = message.get("attempt")
        for run in list(self.runs.values()):
            if run.step_run_id == step_run_id and attempt in (None, run.attempt):
                self._cancel(run, str(message.get("reason") or "cancelled"))

    def taken_back(self) -> None:
        """The server registered this worker anew: it declared the old identity dead and
        queued its step runs again, so what still runs here is another's work now."""
        for run in list(self.runs.values()):
            self._cancel(run, "taken back by the server")
            run.handed_back = True

    def hand_back_running(self) -> None:
        """Stop every step still running and give its step run back to the server."""
        for run in [run for run in self.runs.values() if not run.stopped]:
            self._cancel(run, "handed back")
            run.handed_back = True
            self._report(hand_back(run, "worker shutting down"))

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the step runner has no loop yet: call run_on() first")
        return self._loop

    def _report_started(self, run: StepRun) -> None:
        if run.started_timer is not None:
            run.started_timer.cancel()
            run.started_timer = None
            self._report(run.context._message("step.started", started_at=run.started_at))

    def _run_sync(self, run: StepRun, function: StepFunction) -> None:
        """Body of a sync step's thread; the result goes back to the loop."""
        try:
            with traced(run):
                output = function(run.context)
        except Suspended:
            self._call_in_loop(self._let_go, run)
        except Exception as exc:
            self._call_in_loop(self._finish, run, None, exc)
        else:
            self._call_in_loop(self._finish, run, output, None)

    async def _run_async(self, run: StepRun, function: StepFunction) -> None:
        try:
            with traced(run):
                output = await function(run.context)
        except asyncio.CancelledError:
            # Cancelled for a timeout, step.cancel or hand-back: only a timeout is
            # reported, so the server need not wait for its own clock to notice.
            run.context._mark_finished()
            self._release(run)
            if run.timed_out and not run.handed_back:
                self._report(timed_out(run))
            raise
        except Suspended:
            self._let_go(run)
        except Exception as exc:
            self._finish(run, None, exc)
        else:
            self._finish(run, output, None)

    def _finish(self, run: StepRun, output: Any, error: Exception | None) -> None:
        run.context._mark_finished()
        self._release(run)
        if run.handed_back:
            return
        if run.timed_out:
            # Whatever a step returns after its deadline, it timed out.
            self._report(timed_out(run))
            return
        if error is not None:
            self._report(
                failed(
                    run,
                    f"{type(error).__name__}: {error}",
                    "".join(traceback.format_exception(error)),
                    retryable=not isinstance(error, NonRetryableError),
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
            self._report(completed)
        except MessageTooLarge as exc:
            self._report(output_too_large(run, exc.size, exc.limit))
        except (TypeError, ValueError) as exc:
            self._report(
                failed(
                    run,
                    f"{type(exc).__name__}: step output is not JSON-serialisable: {exc}",
                    "",
                    retryable=False,
                )
            )

    def _let_go(self, run: StepRun) -> None:
        """The server took the step run back (it waits, or moved on): its slot is free
        and nothing is reported."""
        run.context._mark_finished()
        self._release(run)

    async def _ask(self, run: StepRun, message: Message) -> Message:
        """Send a running step's request and wait for its answer's result."""
        if run.stopped:
            raise Suspended("stopped")
        self._report_started(run)
        return await self._send_request(run.context._message(message.pop("type"), **message))

    def _check_deadline(self, run: StepRun) -> None:
        if run.deadline is None:
            raise RuntimeError("a step run without a deadline has no timer to check")
        run.timer = None
        remaining = run.deadline - self._running_loop().time()
        if remaining > 0:  # refresh_timeout moved the deadline
            run.timer = self._running_loop().call_later(remaining, self._check_deadline, run)
        else:
            run.timed_out = True
            self._cancel(run, "timed_out")

    def _extend_deadline(self, run: StepRun, seconds: float) -> None:
        if run.deadline is not None and not run.stopped:
            run.deadline = max(run.deadline, self._running_loop().time()) + seconds

    def _cancel(self, run: StepRun, reason: str) -> None:
        """Flag the step cancelled and stop its timers; an async step's task is cancelled
        too. A sync step cannot be interrupted: its thread runs on, keeping its slot until
        it returns (the server is told, so that it assigns that slot nothing), and its
        late result is still sent (the server ignores it as stale)."""
        if run.stopped:
            return
        logger.info("step run %s (attempt %d) %s", run.step_run_id, run.attempt, reason)
        run.stopped = True
        run.context.cancelled.set()
        run.stop_timers()
        if run.task is not None:
            run.task.cancel()
        else:
            self._beat_soon()

    def _release(self, run: StepRun) -> None:
        lingered = run.holds_slot and run.stopped and run.task is None
        run.holds_slot = False
        run.stop_timers()
        if self.runs.get(run.key) is run:
            del self.runs[run.key]
        if lingered:
            self._beat_soon()

    def _submit(self, run: StepRun, message: Message) -> None:
        """Take a message from a step's context, from whichever thread the step runs in."""
        if threading.get_ident() == self._loop_thread_id:
            self._accept_step_message(run, message)
        else:
            self._call_in_loop(self._accept_step_message, run, message)

    def _accept_step_message(self, run: StepRun, message: Message) -> None:
        if run.handed_back:
            return
        # A log line or a refresh needs the step run to be RUNNING on the server first.
        self._report_started(run)
        try:
            self._report(message)
        except (TypeError, ValueError) as exc:
            logger.warning("dropped a %s of step run %s: %s", message["type"], run.step_run_id, exc)

    def _call_in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        # RuntimeError: the worker has stopped; a late step's messages have nowhere to go.
        with contextlib.suppress(RuntimeError):
            self._running_loop().call_soon_threadsafe(callback, *args)


def traced(run: StepRun) -> AbstractContextManager[None]:
    attributes = {
        "hatchet.step_run_id": run.step_run_id,
        "hatchet.workflow_run_id": run.context.workflow_run_id,
        "hatchet.attempt": run.attempt,
    }
    return step_span(run.action, run.traceparent, attributes)


def failed(run: StepRun | Entry, error: str, trace: str, *, retryable: bool) -> Message:
    message: Message = {
        "type": "step.failed",
        "step_run_id": run.step_run_id,
        "attempt": run.attempt,
        "error": error[:_MAX_ERROR_CHARS],
        "traceback": trace[-_MAX_ERROR_CHARS:],
        "retryable": retryable,
    }
    if run.started_at:
        message["started_at"] = run.started_at
    return message


def output_too_large(run: StepRun | Entry, size: int, limit: int | None) -> Message:
    """The step's failure in place of a result the server cannot take: retrying would
    make the same output."""
    return failed(
        run,
        f"output too large: {size} bytes, the server takes at most {limit}",
        "",
        retryable=False,
    )


def timed_out(run: StepRun) -> Message:
    return {**failed(run, "timed out", "", retryable=True), "timed_out": True}


def hand_back(run: StepRun, reason: str) -> Message:
    return {**failed(run, reason, "", retryable=True), "handed_back": True}
