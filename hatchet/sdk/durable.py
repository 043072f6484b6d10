"""What a step asks of the server while it runs: child runs, and a durable step's waits.

Each request goes out through the worker's outbox (re-sent until answered, across
reconnects) and is answered on the same socket. The logic is written once, as
coroutines on the worker's loop; a sync step's thread runs them there and blocks.

A durable step's waits are numbered in the order it makes them; the assignment
carries the ones already over, which return what they returned the first time without
asking again. When a wait is not over, the server takes the step run back and the
function is left with `Suspended`, which no `except Exception` catches: the step runs
again, from its start, once the wait ends.
"""

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from hatchet.sdk.errors import (
    ChildWorkflowFailed,
    NonDeterministicError,
    WaitTimedOut,
)
from hatchet.wire.durations import parse_duration

if TYPE_CHECKING:
    from hatchet.sdk.context import Context

T = TypeVar("T")
Request = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

SLEEP = "sleep"
EVENT = "event"
CHILDREN = "children"
# The server answers at most this many children per spawn request.
SPAWN_BATCH = 1000
FIRST_POLL_DELAY = 0.05
MAX_POLL_DELAY = 1.0
# How often a sync step's thread, blocked on a request, looks at its cancellation.
CANCEL_CHECK_INTERVAL = 0.25


class Suspended(BaseException):
    """The step's attempt is over for the server (it waits, or moved on): the function
    must stop without a result. A BaseException, so that `except Exception` in the
    step's code does not keep it running."""


@dataclass(frozen=True)
class Spawn:
    """One child to spawn with `context.spawn_workflows([...])`. `key` names it within
    the step (the same key, on a retry or replay, gives the same run back); without
    one, the step's spawns are numbered in the order it makes them."""

    workflow: str
    input: Any = None
    key: str | None = None
    overrides: dict[str, dict[str, Any]] | None = None
    additional_metadata: dict[str, Any] | None = None


class ChildRun:
    """A child workflow run spawned by a step: wait for its result with `result()` (or
    `await aio_result()` in an async step), or do not, and the run goes on alone."""

    def __init__(self, context: "Context", workflow_run_id: str, workflow: str) -> None:
        self._context = context
        self.workflow_run_id = workflow_run_id
        self.workflow = workflow

    def __repr__(self) -> str:
        return f"ChildRun({self.workflow!r}, {self.workflow_run_id!r})"

    def result(self) -> dict[str, Any]:
        """{step name: output} once the child succeeds; raises ChildWorkflowFailed if it
        fails or is cancelled."""
        [output] = self._context.wait_for_children([self])
        return dict(output)

    async def aio_result(self) -> dict[str, Any]:
        [output] = await self._context.aio_wait_for_children([self])
        return dict(output)


@dataclass
class StepSession:
    """What a step has asked of the server so far in this attempt."""

    request: Request
    durable: bool
    # The waits already over, by ordinal, as the assignment recorded them.
    recorded: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_wait: int = 0
    next_spawn: int = 0

    async def wait(self, step: str, kind: str, spec: dict[str, Any]) -> Any:
        """The wait's result: from the record if it is over, else from the server; raises
        Suspended if the step must wait."""
        if not self.durable:
            raise RuntimeError(
                f"step {step!r} is not durable: mark it @step(durable=True) to sleep or "
                "wait for events without holding a worker's slot"
            )
        ordinal = self.next_wait
        self.next_wait += 1
        # What the server records, compared as it records it (floats, JSON).
        spec = json.loads(json.dumps(spec))
        recorded = self.recorded.get(ordinal)
        if recorded is not None:
            if recorded.get("kind") != kind or recorded.get("spec") != spec:
                raise NonDeterministicError(
                    f"durable step {step!r} is not deterministic: its wait #{ordinal + 1} "
                    f"was {recorded.get('kind')} {recorded.get('spec')} when it first ran, "
                    f"and is {kind} {spec} now; a durable step must make the same waits in "
                    "the same order every time it runs"
                )
            return recorded.get("result")
        answer = await self.request(
            {"type": "step.wait", "ordinal": ordinal, "kind": kind, "spec": spec}
        )
        if answer.get("state") != "resolved":
            raise Suspended(answer.get("state"))
        return answer.get("result")

    async def spawn(self, context: "Context", children: Iterable[Any]) -> list[ChildRun]:
        items = [self.spawn_item(child) for child in children]
        runs: list[ChildRun] = []
        for start in range(0, len(items), SPAWN_BATCH):
            batch = items[start : start + SPAWN_BATCH]
            answer = await self.request({"type": "step.spawn", "children": batch})
            if "runs" not in answer:
                raise Suspended(answer.get("state"))
            runs += [
                ChildRun(context, str(run_id), item["workflow"])
                for run_id, item in zip(answer["runs"], batch, strict=True)
            ]
        return runs

    def spawn_item(self, child: Any) -> dict[str, Any]:
        if isinstance(child, tuple):
            child = Spawn(*child)
        elif isinstance(child, Mapping):
            child = Spawn(**child)
        if not isinstance(child, Spawn):
            raise TypeError("spawn_workflows takes Spawn(...) objects, (workflow, input) or dicts")
        if not isinstance(child.workflow, str) or not child.workflow:
            raise ValueError(f"a child needs a workflow name, not {child.workflow!r}")
        key = child.key
        if key is None:
            key = f"#{self.next_spawn}"
            self.next_spawn += 1
        elif not isinstance(key, str) or not key:
            raise ValueError(f"a spawn key must be a non-empty string, not {key!r}")
        item: dict[str, Any] = {"workflow": child.workflow, "input": child.input, "key": key}
        if child.overrides is not None:
            item["overrides"] = child.overrides
        if child.additional_metadata is not None:
            item["additional_metadata"] = child.additional_metadata
        return item

    async def outcomes(
        self, step: str, run_ids: list[str], timeout: float | None
    ) -> dict[str, dict[str, Any]]:
        """How each run ended, once all have: a durable step waits without its slot; any
        other step asks, now and then, holding it. Raises WaitTimedOut after `timeout`."""
        too_late = f"the child runs had not all finished after {timeout:g}s" if timeout else ""
        if self.durable:
            result = await self.wait(step, CHILDREN, {"runs": run_ids, "timeout": timeout})
            if result.get("timed_out"):
                raise WaitTimedOut(too_late)
            return dict(result.get("runs") or {})
        found: dict[str, dict[str, Any]] = {}
        delay = FIRST_POLL_DELAY
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pending = [run_id for run_id in dict.fromkeys(run_ids) if run_id not in found]
            for start in range(0, len(pending), SPAWN_BATCH):
                answer = await self.request(
                    {"type": "step.children", "runs": pending[start : start + SPAWN_BATCH]}
                )
                found.update(answer.get("runs") or {})
            if all(run_id in found for run_id in run_ids):
                return found
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimedOut(too_late)
            await asyncio.sleep(delay)
            delay = min(2 * delay, MAX_POLL_DELAY)


def child_results(
    children: list[ChildRun], outcomes: Mapping[str, Mapping[str, Any]], return_exceptions: bool
) -> list[Any]:
    """Each child's outputs by step name, in order; a failed child's ChildWorkflowFailed
    is raised (the first, in order) or, with return_exceptions, put in its place."""
    results: list[Any] = []
    for child in children:
        outcome = outcomes.get(child.workflow_run_id) or {}
        if outcome.get("status") == "SUCCEEDED":
            results.append(dict(outcome.get("output") or {}))
            continue
        failure = ChildWorkflowFailed(
            f"child run {child.workflow_run_id} of {child.workflow} ended "
            f"{outcome.get('status')}: {outcome.get('error') or 'no error recorded'}",
            workflow_run_id=child.workflow_run_id,
            workflow=child.workflow,
            run_status=str(outcome.get("status")),
            error=str(outcome.get("error") or ""),
        )
        if not return_exceptions:
            raise failure
        results.append(failure)
    return results


def event_of(key: str, result: Mapping[str, Any], timeout: float | None) -> dict[str, Any]:
    if result.get("timed_out"):
        raise WaitTimedOut(f"no event {key!r} came within {timeout:g}s")
    return dict(result.get("event") or {})


def seconds(duration: str | float | int, what: str, *, allow_zero: bool = False) -> float:
    value = parse_duration(duration) if isinstance(duration, str) else duration
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a duration ('30s') or a number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'zero or more' if allow_zero else 'positive'}")
    return float(value)


def run_blocking(
    loop: asyncio.AbstractEventLoop | None,
    on_loop: Callable[[], bool],
    cancelled: Callable[[], bool],
    coroutine: Coroutine[Any, Any, T],
    name: str,
) -> T:
    """Run the coroutine on the worker's loop from a sync step's thread, and wait for it;
    a step cancelled meanwhile is let go (Suspended)."""
    if loop is None:
        coroutine.close()
        raise RuntimeError(f"{name} needs a context created by a worker")
    if on_loop():
        coroutine.close()
        raise RuntimeError(f"in an async step, use `await context.aio_{name}(...)`")
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    # Waited for apart from result(): a coroutine's own TimeoutError (WaitTimedOut) must
    # not pass for the wait's.
    while not concurrent.futures.wait([future], timeout=CANCEL_CHECK_INTERVAL).done:
        if cancelled():
            future.cancel()
            raise Suspended("cancelled")
    return future.result()
