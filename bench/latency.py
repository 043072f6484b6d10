"""Trigger-to-start latency: open-loop triggers at a steady rate, start times from the steps.

The client takes `time.time()` right before each trigger call and puts it in the input;
the step (or Celery task) takes `time.time()` on its first line and returns both. Both
clocks are this machine's. Triggers are scheduled by the wall clock from a small thread
pool, so a slow call never delays the next one (open loop). The time each trigger call
took to be answered is kept too: the client's and the server's share of the latency,
before the step's dispatch. The samples, in trigger order, are also cut into
LATENCY_WINDOWS consecutive windows, whose percentiles give a median and a spread.
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
LATENCY_WINDOWS = 3
PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}

Samples = list[float]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks."""
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def percentiles(samples: Samples) -> dict[str, float]:
    ordered = sorted(samples)
    return {name: round(percentile(ordered, f), 2) for name, f in PERCENTILES.items()}


def summarize(samples: Samples, expected: int, answered: Samples) -> dict[str, Any]:
    """p50/p95/p99 and friends in milliseconds; `lost` counts triggers with no start
    seen; `windows` the median and spread of each percentile over consecutive windows
    of the samples (in trigger order); `answered` the trigger calls' own times."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0, "lost": expected}
    size = max(1, len(samples) // LATENCY_WINDOWS)
    by_window = [percentiles(samples[i : i + size]) for i in range(0, size * LATENCY_WINDOWS, size)]
    windows = {}
    for name in PERCENTILES:
        values = sorted(window[name] for window in by_window)
        windows[name] = {
            "median": values[len(values) // 2],
            "spread": round(values[-1] - values[0], 2),
        }
    return {
        **percentiles(samples),
        "mean": round(sum(ordered) / len(ordered), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
        "lost": expected - len(ordered),
        "windows": windows,
        "answered": percentiles(answered) if answered else {},
    }


def answered_in(call: Callable[[], Any]) -> tuple[Any, float]:
    """What `call` returns and how long it took to answer (ms)."""
    began = time.time()
    result = call()
    return result, (time.time() - began) * 1000


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
            outputs.sort(key=lambda output: output["sent"])
            return [(o["started"] - o["sent"]) * 1000 for o in outputs]
        time.sleep(0.2)


def hatchet_latency(
    client: Hatchet, db: Database, rate: float, count: int, warmup: int, event: bool
) -> tuple[dict[str, Any], Samples]:
    """Trigger-to-start (or event-to-start) latency of the one-step no-op workflow."""

    def run(phase: str) -> tuple[Any, float]:
        return answered_in(
            lambda: client.admin.run_workflow(NOOP, {"sent": time.time(), "phase": phase})
        )

    def push(phase: str) -> tuple[Any, float]:
        return answered_in(
            lambda: client.event.push(EVENT_KEY, {"sent": time.time(), "phase": phase})
        )

    trigger = push if event else run
    action = f"{EVENT if event else NOOP}:noop"
    since = time.time()
    open_loop(trigger, rate, warmup, "warmup")
    phase = f"latency-{since}"
    answered = [ms for _, ms in open_loop(trigger, rate, count, phase)]
    samples = started_outputs(db, action, phase, count, since)
    return summarize(samples, count, answered), samples


def celery_latency(
    queue: str, rate: float, count: int, warmup: int
) -> tuple[dict[str, Any], Samples]:
    """Enqueue-to-start latency of the no-op task, results read from the result backend."""

    def send(phase: str) -> tuple[AsyncResult, float]:
        return answered_in(lambda: noop.apply_async(args=(time.time(), phase), queue=queue))

    for result, _ in open_loop(send, rate, warmup, "warmup"):
        result.get(timeout=COLLECT_TIMEOUT)
    sent = open_loop(send, rate, count, "latency")
    deadline = time.monotonic() + COLLECT_TIMEOUT
    samples: Samples = []
    for result, _ in sent:
        try:
            output = result.get(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # noqa: S112 (a timeout or a failed task: counted as lost)
            continue
        samples.append((output["started"] - output["sent"]) * 1000)
    return summarize(samples, count, [ms for _, ms in sent]), samples
