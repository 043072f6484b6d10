"""The fault suite's workflows, served by a real SDK worker process.

Usage: python -m tests.chaos.worker_app --name NAME --slots N --records DIR

A DAG, a step that fails once and succeeds on its retry, a step that overruns its
timeout once, a step of ~50 ms, an event's workflow, a cron's workflow, a step of a few
seconds that the faults find in flight, and the probe the harness measures recovery
with. Every step execution is recorded in DIR (records.py),
and its output names the execution, so the audit can tell which one was recorded.
"""

import argparse
import asyncio
import contextlib
import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hatchet.sdk import Context, Hatchet
from tests.chaos.records import CANCELLED, RAISED, RETURNED, ExecutionLog

DAG = "ChaosDag"
RETRY = "ChaosRetry"
TIMEOUT = "ChaosTimeout"
SLOW = "ChaosSlow"
EVENT = "ChaosEvent"
CRON = "ChaosCron"
LONG = "ChaosLong"
PROBE = "ChaosProbe"
EVENT_KEY = "chaos:ping"
# Every five seconds (six fields: the first is seconds).
CRON_EXPRESSION = "*/5 * * * * *"
# Steps and expected attempts when no fault intervenes: the retry step fails once, the
# timeout step overruns once.
STEPS = {
    DAG: ("start", "left", "right", "join"),
    RETRY: ("flaky",),
    TIMEOUT: ("overrun",),
    SLOW: ("work",),
    EVENT: ("handle",),
    CRON: ("tick",),
    LONG: ("hold",),
    PROBE: ("answer",),
}
OVERRUN_TIMEOUT = 1.0
SLOW_STEP_SECONDS = 0.05
LONG_STEP_SECONDS = 3.0

hatchet = Hatchet()
_execution_log: ExecutionLog | None = None

StepFunction = Callable[..., Any]


def execution_log() -> ExecutionLog:
    assert _execution_log is not None, "main() opens the execution log"
    return _execution_log


@contextlib.contextmanager
def recording(context: Context) -> Iterator[str]:
    """Record an execution's start, and how it ended; yields its id."""
    execution_id = execution_log().started(
        {
            "workflow_run_id": context.workflow_run_id,
            "step_run_id": context.step_run_id,
            "workflow": context.workflow_name,
            "step": context.step_name,
            "attempt": context.attempt,
            "retry_count": context.retry_count,
        }
    )
    try:
        yield execution_id
    except asyncio.CancelledError:
        execution_log().ended(execution_id, CANCELLED)
        raise
    except Exception:
        execution_log().ended(execution_id, RAISED)
        raise
    execution_log().ended(execution_id, RETURNED)


def recorded(function: StepFunction) -> StepFunction:
    """Record each execution of the step, and name it in the step's output."""
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def run_async(self: Any, context: Context) -> dict[str, Any]:
            with recording(context) as execution_id:
                output = await function(self, context)
            return {**output, "execution": execution_id}

        return run_async

    @functools.wraps(function)
    def run_sync(self: Any, context: Context) -> dict[str, Any]:
        with recording(context) as execution_id:
            output = function(self, context)
        return {**output, "execution": execution_id}

    return run_sync


@hatchet.workflow(name=DAG)
class ChaosDag:
    @hatchet.step()
    @recorded
    def start(self, context: Context) -> dict[str, Any]:
        return {"n": context.workflow_input()["n"]}

    @hatchet.step(parents=["start"])
    @recorded
    async def left(self, context: Context) -> dict[str, Any]:
        return {"value": context.step_output("start")["n"] * 2}

    @hatchet.step(parents=["start"])
    @recorded
    def right(self, context: Context) -> dict[str, Any]:
        return {"value": context.step_output("start")["n"] + 7}

    @hatchet.step(parents=["left", "right"])
    @recorded
    def join(self, context: Context) -> dict[str, Any]:
        return {"sum": context.step_output("left")["value"] + context.step_output("right")["value"]}


def dag_sum(n: int) -> int:
    """What ChaosDag's join answers for input n."""
    return 2 * n + n + 7


@hatchet.workflow(name=RETRY)
class ChaosRetry:
    @hatchet.step(retries=2, backoff={"initial": "100ms", "factor": 2, "max": "1s"})
    @recorded
    def flaky(self, context: Context) -> dict[str, Any]:
        if context.retry_count == 0:
            raise RuntimeError("planned failure of the first try")
        return {"retry_count": context.retry_count}


@hatchet.workflow(name=TIMEOUT)
class ChaosTimeout:
    @hatchet.step(
        timeout=f"{int(OVERRUN_TIMEOUT)}s",
        retries=1,
        backoff={"initial": "100ms", "factor": 2, "max": "1s"},
    )
    @recorded
    async def overrun(self, context: Context) -> dict[str, Any]:
        if context.retry_count == 0:
            await asyncio.sleep(5 * OVERRUN_TIMEOUT)
        return {"retry_count": context.retry_count}


@hatchet.workflow(name=SLOW)
class ChaosSlow:
    @hatchet.step()
    @recorded
    def work(self, _context: Context) -> dict[str, Any]:
        time.sleep(SLOW_STEP_SECONDS)
        return {"slept": SLOW_STEP_SECONDS}


@hatchet.workflow(name=EVENT, on_events=[EVENT_KEY])
class ChaosEvent:
    @hatchet.step()
    @recorded
    def handle(self, context: Context) -> dict[str, Any]:
        return {"tag": context.workflow_input().get("tag")}


@hatchet.workflow(name=CRON, on_crons=[CRON_EXPRESSION])
class ChaosCron:
    @hatchet.step()
    @recorded
    def tick(self, _context: Context) -> dict[str, Any]:
        return {}


@hatchet.workflow(name=LONG)
class ChaosLong:
    @hatchet.step()
    @recorded
    def hold(self, _context: Context) -> dict[str, Any]:
        time.sleep(LONG_STEP_SECONDS)
        return {"slept": LONG_STEP_SECONDS}


@hatchet.workflow(name=PROBE)
class ChaosProbe:
    @hatchet.step()
    @recorded
    async def answer(self, _context: Context) -> dict[str, Any]:
        return {}


WORKFLOWS = (
    ChaosDag,
    ChaosRetry,
    ChaosTimeout,
    ChaosSlow,
    ChaosEvent,
    ChaosCron,
    ChaosLong,
    ChaosProbe,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--slots", type=int, required=True)
    parser.add_argument("--records", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    global _execution_log
    _execution_log = ExecutionLog(args.records, args.name)
    worker = hatchet.worker(args.name, max_runs=args.slots)
    for workflow in WORKFLOWS:
        worker.register_workflow(workflow())
    worker.start()


if __name__ == "__main__":
    main()
