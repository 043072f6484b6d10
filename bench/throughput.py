"""Sustained throughput: keep the queue full for a window, count what completed in it.

A few client threads trigger whenever the queue holds fewer than a high-water mark of
runs, so the workers never wait for work (the lowest depth seen during the window is
reported to show it); Hatchet's threads share out the server processes as a load
balancer would. Completions are counted by the system that recorded them: step
runs and workflow runs SUCCEEDED with `finished_at` inside the window (Hatchet's
database), tasks whose result has `date_done` inside the window (Celery's backend).
"""

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import redis

from bench.celery_app import noop
from bench.database import Database
from bench.processes import wait_until
from bench.workflows import KEYS
from hatchet.sdk import Hatchet

TRIGGER_THREADS = 4
BULK_TRIGGER = 100
DEPTH_INTERVAL = 0.1
DRAIN_TIMEOUT = 120.0
JOIN_TIMEOUT = 35.0


@dataclass
class Window:
    """What a sustained-load phase did; times are `time.time()` seconds."""

    start: float
    end: float
    triggered: int = 0
    trigger_errors: int = 0
    min_depth: int | None = None
    results: list[Any] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start


def sustain(
    triggers: Sequence[Callable[[], list[Any]]],
    depth: Callable[[], int],
    high_water: int,
    warmup: float,
    duration: float,
) -> Window:
    """Trigger from a thread per trigger, keeping the queue near `high_water`, for
    warmup+duration.

    Each trigger starts one or more runs and returns what it started. The window measured
    is the last `duration` seconds: the warm-up lets the queue fill.
    """
    started = time.time()
    window = Window(start=started + warmup, end=started + warmup + duration)
    lock = threading.Lock()
    stop = threading.Event()
    # Depth as last sampled, plus what was triggered since, so threads do not overshoot.
    state = {"depth": depth(), "since_sample": 0}

    def produce(trigger: Callable[[], list[Any]]) -> None:
        while not stop.is_set():
            with lock:
                room = state["depth"] + state["since_sample"] < high_water
                if room:
                    state["since_sample"] += 1
            if not room:
                time.sleep(DEPTH_INTERVAL / 4)
                continue
            try:
                results = trigger()
            except Exception:
                with lock:
                    window.trigger_errors += 1
                continue
            with lock:
                window.triggered += len(results)
                state["since_sample"] += len(results) - 1
                window.results.extend(results)

    threads = [
        threading.Thread(target=produce, args=(trigger,), daemon=True) for trigger in triggers
    ]
    for thread in threads:
        thread.start()
    try:
        while (now := time.time()) < window.end:
            sampled = depth()
            with lock:
                state["depth"], state["since_sample"] = sampled, 0
            if now >= window.start:
                window.min_depth = (
                    sampled if window.min_depth is None else min(window.min_depth, sampled)
                )
            time.sleep(DEPTH_INTERVAL)
    finally:
        stop.set()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    return window


def summary(window: Window, step_runs: int, runs: int) -> dict[str, Any]:
    return {
        "step_runs_per_s": round(step_runs / window.seconds, 1),
        "runs_per_s": round(runs / window.seconds, 1),
        "window_s": round(window.seconds, 2),
        "step_runs": step_runs,
        "runs": runs,
        "triggered": window.triggered,
        "trigger_errors": window.trigger_errors,
        "min_queue_depth": window.min_depth,
    }


def hatchet_throughput(
    clients: list[Hatchet],
    db: Database,
    workflow: str,
    high_water: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """Step runs and workflow runs of `workflow` completed per second under a full queue.

    Runs are triggered in bulk, as a producer with much work would, so that the figure
    measures the engine rather than one HTTP request per run. Trigger thread t uses
    `clients[t % len(clients)]`: one client per server process shares out the trigger
    work as a load balancer would."""

    def trigger(client: Hatchet) -> list[Any]:
        batch = max(1, min(BULK_TRIGGER, high_water // TRIGGER_THREADS))
        sent = time.time()
        # BenchKeyed's runs spread over its keys; the others ignore the key.
        runs = [
            {"input": {"sent": sent, "phase": "throughput", "key": index % KEYS}}
            for index in range(batch)
        ]
        return client.admin.run_workflows(workflow, runs)

    triggers = [partial(trigger, clients[t % len(clients)]) for t in range(TRIGGER_THREADS)]
    window = sustain(triggers, lambda: db.open_runs(workflow), high_water, warmup, duration)
    # Count after the window has closed on the server too, then let the queue drain so the
    # next phase starts empty.
    time.sleep(0.5)
    result = summary(
        window,
        db.succeeded_step_runs(workflow, window.start, window.end),
        db.succeeded_runs(workflow, window.start, window.end),
    )
    wait_until(lambda: db.open_runs(workflow) == 0, DRAIN_TIMEOUT, f"{workflow} draining", 0.25)
    return result


def celery_throughput(
    queue: str,
    broker: "redis.Redis[bytes]",
    high_water: int,
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    """No-op tasks completed per second under a full queue, from the result backend."""

    def trigger() -> list[str]:
        return [str(noop.apply_async(args=(time.time(), "throughput"), queue=queue).id)]

    window = sustain(
        [trigger] * TRIGGER_THREADS,
        lambda: int(broker.llen(queue)),
        high_water,
        warmup,
        duration,
    )
    keys = [f"celery-task-meta-{task_id}" for task_id in window.results]

    def finished() -> list[float]:
        done: list[float] = []
        for offset in range(0, len(keys), 1000):
            for meta in broker.mget(keys[offset : offset + 1000]):
                if meta is not None:
                    done.append(date_done(meta))
        return done

    done: list[float] = []

    def drained() -> bool:
        done[:] = finished()
        return len(done) == len(keys)

    wait_until(drained, DRAIN_TIMEOUT, "Celery draining", 0.5)
    completed = sum(1 for moment in done if window.start <= moment < window.end)
    for offset in range(0, len(keys), 1000):
        broker.delete(*keys[offset : offset + 1000])
    return summary(window, completed, completed)


def date_done(meta: bytes) -> float:
    moment = datetime.fromisoformat(json.loads(meta)["date_done"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
