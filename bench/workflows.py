"""The workflows the benchmark runs, and the SDK worker process that serves them.

Usage: python -m bench.workflows --name NAME --slots N

Every step is a no-op that records `time.time()` on its first line; the first step of each
workflow echoes the client's trigger timestamp (`sent`) and the phase tag from the input,
so latency is read from the step runs' outputs.
"""

import argparse
import time
from collections.abc import Callable, Coroutine
from typing import Any

from hatchet.sdk import Concurrency, Context, Hatchet, RateLimit

NOOP = "BenchNoop"
KEYED = "BenchKeyed"
# The keys BenchKeyed's runs are spread over, and each key's limit: high enough that a
# full queue (--high-water) never fills a key, so the figure is the price of counting.
KEYS = 64
KEY_MAX_RUNS = 100
RATE_LIMITED = "BenchRateLimited"
# The limit BenchRateLimited's steps take a unit of, put so high that it never holds a
# step back: the figure is the price of taking units under the limit's lock.
RATE_LIMIT_KEY = "bench-calls"
RATE_LIMIT_PER_SECOND = 1_000_000_000
EVENT = "BenchEvent"
CHAIN = "BenchChain"
FANOUT = "BenchFanOut"
PROMPT = "BenchPrompt"
EVENT_KEY = "bench:noop"
FANOUT_WIDTH = 20
SPAWN = "BenchSpawn"
CHILD = "BenchChild"
# The children each BenchSpawn run spawns in one call and joins.
SPAWN_WIDTH = 10
DURABLE = "BenchDurable"
# The checkpoints each BenchDurable step makes (sleeps of nothing: over as they begin).
CHECKPOINTS = 5

hatchet = Hatchet()

StepFunction = Callable[[Any, Context], Coroutine[Any, Any, dict[str, Any]]]


def stamp(context: Context, started: float) -> dict[str, Any]:
    payload = context.workflow_input()
    return {"sent": payload.get("sent"), "started": started, "phase": payload.get("phase")}


# The steps are async so that a no-op costs the worker no thread start.
@hatchet.workflow(name=NOOP)
class BenchNoop:
    @hatchet.step()
    async def noop(self, context: Context) -> dict[str, Any]:
        return stamp(context, time.time())


@hatchet.workflow(name=KEYED, concurrency=Concurrency(key="input.key", max_runs=KEY_MAX_RUNS))
class BenchKeyed:
    """BenchNoop with a concurrency key: each run is counted under its key as it comes
    and as it finishes."""

    @hatchet.step()
    async def noop(self, context: Context) -> dict[str, Any]:
        return stamp(context, time.time())


@hatchet.workflow(name=RATE_LIMITED)
class BenchRateLimited:
    """BenchNoop whose step takes a unit of one rate limit as it is assigned."""

    @hatchet.step(rate_limits=[RateLimit(key=RATE_LIMIT_KEY)])
    async def noop(self, context: Context) -> dict[str, Any]:
        return stamp(context, time.time())


@hatchet.workflow(name=EVENT, on_events=[EVENT_KEY])
class BenchEvent:
    @hatchet.step()
    async def noop(self, context: Context) -> dict[str, Any]:
        return stamp(context, time.time())


@hatchet.workflow(name=CHAIN)
class BenchChain:
    @hatchet.step()
    async def first(self, context: Context) -> dict[str, Any]:
        return stamp(context, time.time())

    @hatchet.step(parents=["first"])
    async def second(self, _context: Context) -> dict[str, Any]:
        return {}

    @hatchet.step(parents=["second"])
    async def third(self, _context: Context) -> dict[str, Any]:
        return {}


def branch(name: str) -> StepFunction:
    async def step(_self: Any, _context: Context) -> dict[str, Any]:
        return {}

    step.__name__ = step.__qualname__ = name
    return hatchet.step(parents=["start"])(step)


async def fanout_start(_self: Any, context: Context) -> dict[str, Any]:
    return stamp(context, time.time())


async def fanout_join(_self: Any, _context: Context) -> dict[str, Any]:
    return {}


fanout_start.__name__ = "start"
fanout_join.__name__ = "join"
BRANCHES = [f"branch_{index:02d}" for index in range(FANOUT_WIDTH)]
# 1 -> 20 -> 1: built with type() because twenty hand-written methods would say less.
BenchFanOut = hatchet.workflow(name=FANOUT)(
    type(
        "BenchFanOut",
        (),
        {
            "start": hatchet.step()(fanout_start),
            **{name: branch(name) for name in BRANCHES},
            "join": hatchet.step(parents=BRANCHES)(fanout_join),
        },
    )
)


@hatchet.workflow(name=CHILD)
class BenchChild:
    @hatchet.step()
    async def noop(self, _context: Context) -> dict[str, Any]:
        return {}


@hatchet.workflow(name=SPAWN)
class BenchSpawn:
    """Spawns SPAWN_WIDTH no-op children in one call and joins them, durably: the step
    holds no slot while they run, so a full queue of parents cannot starve them."""

    @hatchet.step(durable=True)
    async def spawn(self, context: Context) -> dict[str, Any]:
        started = time.time()
        children = await context.aio_spawn_workflows([(CHILD, {})] * SPAWN_WIDTH)
        await context.aio_wait_for_children(children)
        return stamp(context, started)


@hatchet.workflow(name=DURABLE)
class BenchDurable:
    """A durable step that makes CHECKPOINTS waits, each over as it begins: the figure
    is the price of recording a checkpoint, with no suspension."""

    @hatchet.step(durable=True)
    async def checkpoints(self, context: Context) -> dict[str, Any]:
        started = time.time()
        for _ in range(CHECKPOINTS):
            await context.aio_sleep_for(0)
        return stamp(context, started)


@hatchet.workflow(name=PROMPT)
class BenchPrompt:
    """One step that exposes its prompt, for the comparison benchmark (bench/comparison.py):
    its reply names the prompt it was given, and it records the tokens it "used"."""

    @hatchet.step()
    async def answer(self, context: Context) -> dict[str, Any]:
        prompt = context.playground("prompt", "Answer in one sentence.")
        ticket = str(context.workflow_input().get("ticket", ""))
        context.usage(len(prompt.split()) + len(ticket.split()), 12, "bench-model")
        return {"reply": f"{prompt} Re: {ticket}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--slots", type=int, required=True)
    args = parser.parse_args()
    worker = hatchet.worker(args.name, max_runs=args.slots)
    for workflow in (
        BenchNoop(),
        BenchKeyed(),
        BenchRateLimited(),
        BenchEvent(),
        BenchChain(),
        BenchFanOut(),
        BenchChild(),
        BenchSpawn(),
        BenchDurable(),
        BenchPrompt(),
    ):
        worker.register_workflow(workflow)
    worker.start()


if __name__ == "__main__":
    main()
