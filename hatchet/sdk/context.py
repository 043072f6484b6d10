"""`Context`: what a running step sees of its run, and how it talks back to the server."""

import asyncio
import json
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from hatchet.sdk.durable import (
    EVENT,
    SLEEP,
    ChildRun,
    Request,
    Spawn,
    StepSession,
    child_results,
    event_of,
    run_blocking,
)
from hatchet.sdk.durable import seconds as durable_seconds
from hatchet.sdk.errors import StepOutputNotFound
from hatchet.wire.durations import parse_duration
from hatchet.wire.json_types import json_type_name

T = TypeVar("T")

LOG_LEVELS = ("debug", "info", "warning", "error")


class CancellationFlag:
    """Set once the step is cancelled or timed out; long steps should check it and stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)

    def __bool__(self) -> bool:
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"<CancellationFlag set={self.is_set()}>"


class Context:
    """The step's whole world: its input, its parents' outputs, logs, streams and playground."""

    def __init__(
        self,
        assignment: Mapping[str, Any],
        *,
        send: Callable[[dict[str, Any]], object],
        project_root: str | os.PathLike[str] | None = None,
        on_refresh_timeout: Callable[[float], None] | None = None,
        request: Request | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        on_loop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.step_run_id = str(assignment["step_run_id"])
        self.workflow_run_id = str(assignment["workflow_run_id"])
        self.attempt = int(assignment["attempt"])
        self.retry_count = int(assignment.get("retry_count") or 0)
        self.workflow_name: str = assignment.get("workflow", "")
        self.step_name: str = assignment.get("step", "")
        self.cancelled = CancellationFlag()
        self._input: Any = assignment.get("input") or {}
        self._parents: dict[str, Any] = dict(assignment.get("parents") or {})
        self._overrides: dict[str, Any] = dict(assignment.get("overrides") or {})
        self._metadata: dict[str, Any] = dict(assignment.get("metadata") or {})
        self._errors: dict[str, str] = dict(assignment.get("errors") or {})
        self._send = send
        self._project_root = str(Path(project_root if project_root is not None else os.getcwd()))
        self._on_refresh_timeout = on_refresh_timeout
        self._finished = threading.Event()
        # Steps may log from threads of their own; seq numbers and records must not race.
        self._lock = threading.Lock()
        self._next_seq = 0
        self._playground: dict[str, dict[str, Any]] = {}
        self._usage: dict[str, Any] | None = None
        self._loop = loop
        self._on_loop = on_loop
        # Spawns and waits go to the server through `request`; none without a worker.
        self._session = (
            None
            if request is None
            else StepSession(
                request,
                durable=bool(assignment.get("durable")),
                recorded={
                    int(wait["ordinal"]): wait
                    for wait in assignment.get("waits") or []
                    if isinstance(wait, dict)
                },
            )
        )

    def workflow_input(self) -> Any:
        return self._input

    def step_output(self, step_name: str) -> Any:
        if step_name not in self._parents:
            parents = ", ".join(sorted(self._parents)) or "none"
            raise StepOutputNotFound(
                f"step {step_name!r} is not a parent of step {self.step_name!r} "
                f"(its parents: {parents}); declare it in @step(parents=[...])"
            )
        return self._parents[step_name]

    def additional_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def step_run_errors(self) -> dict[str, str]:
        """In an on-failure step, the error of each step that failed for good, by step
        name (e.g. {"charge": "TimeoutError: the bank did not answer"}); else empty."""
        return dict(self._errors)

    def done(self) -> bool:
        return self.cancelled.is_set() or self._finished.is_set()

    def log(self, message: object, level: str = "info") -> None:
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
        self._send_numbered(
            {
                "type": "step.log",
                "message": str(message),
                "level": level,
                "at": datetime.now(UTC).isoformat(),
            }
        )

    def put_stream(self, chunk: str) -> None:
        if not isinstance(chunk, str):
            raise TypeError(f"put_stream takes a str chunk, not {type(chunk).__name__}")
        self._send_numbered({"type": "step.stream", "chunk": chunk})

    def refresh_timeout(self, increment: str) -> None:
        """Give the step `increment` (e.g. "30s") more time before it times out."""
        seconds = parse_duration(increment)
        if seconds <= 0:
            raise ValueError(f"refresh_timeout needs a positive duration, got {increment!r}")
        self._send(self._message("step.refresh_timeout", increment=increment))
        if self._on_refresh_timeout is not None:
            self._on_refresh_timeout(seconds)

    def playground(self, name: str, default: T) -> T:
        """Return the run's override for `name`, else `default`, and record the call site."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a playground name must be a non-empty string, not {name!r}")
        json_type = json_type_name(default)
        # A snapshot, so that mutating a list or dict default later does not change the record.
        default_snapshot = json.loads(json.dumps(default, allow_nan=False))
        # An override has the default's JSON type: the server checks it against the record.
        value: T = self._overrides.get(name, default)
        frame = sys._getframe(1)
        with self._lock:
            if name not in self._playground:
                self._playground[name] = {
                    "name": name,
                    "default": default_snapshot,
                    "value": json.loads(json.dumps(value, allow_nan=False)),
                    "type": json_type,
                    "call_site": {
                        "path": _relative_path(frame.f_code.co_filename, self._project_root),
                        "line": frame.f_lineno,
                        "function": frame.f_code.co_name,
                    },
                }
        return value

    def usage(
        self,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        model: str | None = None,
    ) -> None:
        """Record LLM token usage; repeated calls add up the tokens."""
        for label, count in (
            ("prompt_tokens", prompt_tokens),
            ("completion_tokens", completion_tokens),
        ):
            if count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 0
            ):
                raise ValueError(f"{label} must be a non-negative integer, not {count!r}")
        with self._lock:
            usage = self._usage or {"prompt_tokens": 0, "completion_tokens": 0, "model": None}
            usage["prompt_tokens"] += prompt_tokens or 0
            usage["completion_tokens"] += completion_tokens or 0
            if model is not None:
                usage["model"] = str(model)
            self._usage = usage

    def spawn_workflow(
        self,
        workflow_name: str,
        input: Any = None,
        *,
        key: str | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        additional_metadata: dict[str, Any] | None = None,
    ) -> ChildRun:
        """Start a child run of `workflow_name`, linked to this step; returns its handle.
        Under the same `key` (by default: this spawn's number within the step) a retry
        or a durable replay gets the same run back instead of a second one."""
        child = Spawn(workflow_name, input, key, overrides, additional_metadata)
        [run] = self.spawn_workflows([child])
        return run

    def spawn_workflows(
        self, children: Iterable[Spawn | tuple[str, Any] | dict[str, Any]]
    ) -> list[ChildRun]:
        """Start many child runs at once (Spawn objects, (workflow, input) pairs or dicts
        of Spawn's fields); returns their handles in order."""
        return self._blocking(self.aio_spawn_workflows(children), "spawn_workflows")

    async def aio_spawn_workflow(
        self,
        workflow_name: str,
        input: Any = None,
        *,
        key: str | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
        additional_metadata: dict[str, Any] | None = None,
    ) -> ChildRun:
        child = Spawn(workflow_name, input, key, overrides, additional_metadata)
        [run] = await self.aio_spawn_workflows([child])
        return run

    async def aio_spawn_workflows(
        self, children: Iterable[Spawn | tuple[str, Any] | dict[str, Any]]
    ) -> list[ChildRun]:
        return await self._session_of("spawn_workflows").spawn(self, list(children))

    def wait_for_children(
        self,
        children: Iterable[ChildRun],
        *,
        return_exceptions: bool = False,
        timeout: str | float | None = None,
    ) -> list[Any]:
        """The outputs ({step name: output}) of these child runs, in order, once all have
        finished. A child that failed or was cancelled raises ChildWorkflowFailed (or,
        with return_exceptions, stands in its place); WaitTimedOut after `timeout`. A
        durable step waits without holding its worker's slot."""
        return self._blocking(
            self.aio_wait_for_children(
                children, return_exceptions=return_exceptions, timeout=timeout
            ),
            "wait_for_children",
        )

    async def aio_wait_for_children(
        self,
        children: Iterable[ChildRun],
        *,
        return_exceptions: bool = False,
        timeout: str | float | None = None,
    ) -> list[Any]:
        runs = list(children)
        if not runs:
            return []
        seconds = None if timeout is None else durable_seconds(timeout, "timeout")
        session = self._session_of("wait_for_children")
        outcomes = await session.outcomes(
            self.step_name, [run.workflow_run_id for run in runs], seconds
        )
        return child_results(runs, outcomes, return_exceptions)

    def sleep_for(self, duration: str | float) -> None:
        """Durable steps: sleep `duration` ('30s', '2h', or seconds) without holding a
        worker's slot; a step replayed after it does not sleep again."""
        self._blocking(self.aio_sleep_for(duration), "sleep_for")

    async def aio_sleep_for(self, duration: str | float) -> None:
        spec = {"seconds": durable_seconds(duration, "sleep_for's duration", allow_zero=True)}
        await self._session_of("sleep_for").wait(self.step_name, SLEEP, spec)

    def wait_for_event(
        self,
        key: str,
        filter: dict[str, Any] | None = None,
        *,
        lookback: str | float | None = None,
        timeout: str | float | None = None,
    ) -> dict[str, Any]:
        """Durable steps: wait for an event `key` whose payload has the `filter`'s values
        ({"ticket.id": 42}), pushed from now on or within `lookback` before; returns
        the event (id, key, payload, additional_metadata, created_at). Raises
        WaitTimedOut after `timeout`. Each event is taken by one wait of the step."""
        return self._blocking(
            self.aio_wait_for_event(key, filter, lookback=lookback, timeout=timeout),
            "wait_for_event",
        )

    async def aio_wait_for_event(
        self,
        key: str,
        filter: dict[str, Any] | None = None,
        *,
        lookback: str | float | None = None,
        timeout: str | float | None = None,
    ) -> dict[str, Any]:
        if not isinstance(key, str) or not key:
            raise ValueError(f"an event key must be a non-empty string, not {key!r}")
        if filter is not None and not isinstance(filter, dict):
            raise TypeError("filter must map payload paths to the values they must have")
        timeout_seconds = None if timeout is None else durable_seconds(timeout, "timeout")
        spec = {
            "key": key,
            "filter": filter or {},
            "lookback": 0.0
            if lookback is None
            else durable_seconds(lookback, "lookback", allow_zero=True),
            "timeout": timeout_seconds,
        }
        result = await self._session_of("wait_for_event").wait(self.step_name, EVENT, spec)
        return event_of(key, result, timeout_seconds)

    def _session_of(self, name: str) -> StepSession:
        if self._session is None:
            raise RuntimeError(f"{name} needs a context created by a worker")
        return self._session

    def _blocking(self, coroutine: Coroutine[Any, Any, T], name: str) -> T:
        return run_blocking(self._loop, self._on_loop, self.cancelled.is_set, coroutine, name)

    def _completion_fields(self) -> dict[str, Any]:
        """The extra fields of this step's `step.completed` message."""
        with self._lock:
            fields: dict[str, Any] = {"playground": list(self._playground.values())}
            if self._usage is not None:
                fields["usage"] = dict(self._usage)
        return fields

    def _mark_finished(self) -> None:
        self._finished.set()

    def _message(self, message_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "type": message_type,
            "step_run_id": self.step_run_id,
            "attempt": self.attempt,
            **fields,
        }

    def _send_numbered(self, fields: dict[str, Any]) -> None:
        # One counter for logs and streams: seq is then unique per (step run, attempt)
        # however the server stores the two kinds.
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            message = self._message(fields.pop("type"), seq=seq, **fields)
            self._send(message)


@lru_cache(maxsize=256)
def _relative_path(filename: str, project_root: str) -> str:
    """The file's path relative to the project root with forward slashes, if inside it."""
    if filename.startswith("<"):
        return filename
    path = Path(filename).resolve()
    try:
        return path.relative_to(Path(project_root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()
