"""Trigger-to-start latency: open-loop triggers at a steady rate, start times from the steps.

The client takes `time.time()` right before each trigger call and puts it in the input;
the step (or Celery task) takes `time.time()` on its first line and returns both. Both
clocks are this machine's. Triggers are scheduled by the wall clock from a small thread
pool, so a slow call never delays the next one (open loop).
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery.result import AsyncResult

from bench.celery_app import noop
from bench.database import Database
from bench.workflows import EVENT, EVENT_KEY, NOOP
from hatchet.sdk import Hatchet

TRIGGER_THREADS = 4
COLLECT_TIMEOUT = 60.0

Samples = list[float]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks."""
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize(samples: Samples, expected: int) -> dict[str, Any]:
    """p50/p95/p99 and friends in milliseconds; `lost` counts triggers with no start seen."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0, "lost": expected}
    return {
        "p50": round(percentile(ordered, 0.50), 2),
        "p95": round(percentile(ordered, 0.95), 2),
        "p99": round(percentile(ordered, 0.99), 2),
        "mean": round(sum(ordered) / len(ordered), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
        "lost": expected - len(ordered),
    }


def open_loop(trigger: Callable[[str], Any], rate: float, count: int, phase: str) -> list[Any]:
    """Call `trigger(phase)` `count` times at `rate` per second; return what the calls return."""
    start = time.monotonic() + 0.05
    futures = []
    with ThreadPoolExecutor(TRIGGER_THREADS) as pool:
        for index in range(count):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(trigger, phase))
    return [future.result() for future in futures]


def started_outputs(db: Database, action: str, phase: str, count: int, since: float) -> Samples:
    """Latencies (ms) from the outputs of the phase's step runs, once all are there."""
    deadline = time.monotonic() + COLLECT_TIMEOUT
    while True:
        outputs = [o for o in db.step_outputs(action, since) if o.get("phase") == phase]
        if len(outputs) >= count or time.monotonic() > deadline:
            return [(o["started"] - o["sent"]) * 1000 for o in outputs]
        time.sleep(0.2)


def hatchet_latency(
    client: Hatchet, db: Database, rate: float, count: int, warmup: int, event: bool
) -> tuple[dict[str, Any], Samples]:
    """Trigger-to-start (or event-to-start) latency of the one-step no-op workflow."""

    def run(phase: str) -> None:
        client.admin.run_workflow(NOOP, {"sent": time.time(), "phase": phase})

    def push(phase: str) -> None:
        client.event.push(EVENT_KEY, {"sent": time.time(), "phase": phase})

    trigger = push if event else run
    action = f"{EVENT if event else NOOP}:noop"
    since = time.time()
    open_loop(trigger, rate, warmup, "warmup")
    phase = f"latency-{since}"
    open_loop(trigger, rate, count, phase)
    samples = started_outputs(db, action, phase, count, since)
    return summarize(samples, count), samples


def celery_latency(
    queue: str, rate: float, count: int, warmup: int
) -> tuple[dict[str, Any], Samples]:
    """Enqueue-to-start latency of the no-op task, results read from the result backend."""

    def send(phase: str) -> AsyncResult:
        return noop.apply_async(args=(time.time(), phase), queue=queue)

    for result in open_loop(send, rate, warmup, "warmup"):
        result.get(timeout=COLLECT_TIMEOUT)
    results = open_loop(send, rate, count, "latency")
    deadline = time.monotonic() + COLLECT_TIMEOUT
    samples: Samples = []
    for result in results:
        try:
            output = result.get(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # noqa: S112 (a timeout or a failed task: counted as lost)
            continue
        samples.append((output["started"] - output["sent"]) * 1000)
    return summarize(samples, count), samples
