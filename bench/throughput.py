"""Sustained throughput: keep the queue full for a window, count what completed in it.

A few client threads trigger whenever the queue holds fewer than a high-water mark of
runs, so the workers never wait for work (the lowest depth seen during the window is
reported to show it); Hatchet's threads share out the server processes as a load
balancer would. Completions are counted by the system that recorded them: step
runs and workflow runs SUCCEEDED with `finished_at` inside the window (Hatchet's
database), tasks whose result has `date_done` inside the window (Celery's backend).
Both sides trigger either in batches of up to BULK_TRIGGER (Hatchet's bulk trigger,
Celery's `group`) or one run per call; the window is also cut into SUB_WINDOWS equal
parts, whose rates give a median and a spread.
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
from celery import group
from celery.result import GroupResult

from bench.celery_app import noop
from bench.database import Database
from bench.processes import wait_until
from bench.workflows import KEYS, NOOP
from hatchet.sdk import Hatchet

TRIGGER_THREADS = 4
BULK_TRIGGER = 100
DEPTH_INTERVAL = 0.1
DRAIN_TIMEOUT = 120.0
JOIN_TIMEOUT = 35.0
SUB_WINDOWS = 5
# kombu's Redis transport keeps the messages a worker has reserved, not yet acknowledged,
# in this hash of the broker's database (one for every queue of that database).
CELERY_UNACKED = "unacked"


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


def batch_size(high_water: int, batched: bool) -> int:
    """Runs a trigger call sends: enough for the threads to share the high-water mark."""
    return max(1, min(BULK_TRIGGER, high_water // TRIGGER_THREADS)) if batched else 1


def sub_windows(window: Window) -> list[tuple[float, float]]:
    length = window.seconds / SUB_WINDOWS
    return [
        (window.start + index * length, window.start + (index + 1) * length)
        for index in range(SUB_WINDOWS)
    ]


def summary(
    window: Window, step_runs: int, runs: int, step_runs_by_sub_window: list[int]
) -> dict[str, Any]:
    length = window.seconds / SUB_WINDOWS
    rates = sorted(count / length for count in step_runs_by_sub_window)
    return {
        "step_runs_per_s": round(step_runs / window.seconds, 1),
        "runs_per_s": round(runs / window.seconds, 1),
        "sub_windows_per_s": [round(rate, 1) for rate in rates],
        "median_per_s": round(rates[len(rates) // 2], 1),
        "spread_per_s": round(rates[-1] - rates[0], 1),
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
    batched: bool = True,
) -> dict[str, Any]:
    """Step runs and workflow runs of `workflow` completed per second under a full queue.

    Runs are triggered in bulk (up to BULK_TRIGGER a request) as a producer with much
    work would, or one a request (`batched=False`). Trigger thread t uses
    `clients[t % len(clients)]`: one client per server process shares out the trigger
    work as a load balancer would."""
    batch = batch_size(high_water, batched)

    def trigger(client: Hatchet) -> list[Any]:
        sent = time.time()
        if batch == 1:
            run = {"sent": sent, "phase": "throughput", "key": 0}
            return [client.admin.run_workflow(workflow, run)]
        # BenchKeyed's runs spread over its keys; the others ignore the key.
        runs = [
            {"input": {"sent": sent, "phase": "throughput", "key": index % KEYS}}
            for index in range(batch)
        ]
        return client.admin.run_workflows(workflow, runs)

    triggers = [partial(trigger, clients[t % len(clients)]) for t in range(TRIGGER_THREADS)]
    window = sustain(triggers, depth_of(db, workflow), high_water, warmup, duration)
    # Count after the window has closed on the server too, then let the queue drain so the
    # next phase starts empty.
    time.sleep(0.5)
    result = summary(
        window,
        db.succeeded_step_runs(workflow, window.start, window.end),
        db.succeeded_runs(workflow, window.start, window.end),
        [db.succeeded_step_runs(workflow, *part) for part in sub_windows(window)],
    )
    wait_until(lambda: db.open_runs(workflow) == 0, DRAIN_TIMEOUT, f"{workflow} draining", 0.25)
    return result


def depth_of(db: Database, workflow: str) -> Callable[[], int]:
    """The depth the load keeps up: the workflow's unfinished runs. A no-op run is open
    exactly while its one step run is (queued with the run, ended with it), so its
    depth is read as Celery's is, queued and held: from the small partial index of
    open step runs, where the runs' status index holds an entry for every status
    change since the last vacuum (under load 6-11 ms of PostgreSQL a call, ten times a
    second, against ~0.4 ms: a load on the system under test Celery's LLEN does not
    make)."""
    if workflow == NOOP:
        return partial(db.open_step_runs, f"{NOOP}:noop")
    return partial(db.open_runs, workflow)


def celery_throughput(
    queue: str,
    broker: "redis.Redis[bytes]",
    high_water: int,
    warmup: float,
    duration: float,
    batched: bool = False,
) -> dict[str, Any]:
    """No-op tasks completed per second under a full queue, from the result backend.

    One `apply_async` a task, or (`batched`) a `group` of up to BULK_TRIGGER sent in one
    call: Celery has no bulk publish, a group sends its messages one by one over one
    producer connection. The depth is the queue's messages plus those reserved by the
    workers (prefetched or running), as Hatchet's is its unfinished runs."""
    batch = batch_size(high_water, batched)

    def trigger() -> list[str]:
        if batch == 1:
            return [str(noop.apply_async(args=(time.time(), "throughput"), queue=queue).id)]
        sent = time.time()
        tasks = group(noop.s(sent, "throughput") for _ in range(batch)).apply_async(queue=queue)
        if not isinstance(tasks, GroupResult):
            raise TypeError(f"a group answered {type(tasks).__name__}, not a GroupResult")
        return [str(result.id) for result in tasks.results or []]

    def depth() -> int:
        with broker.pipeline(transaction=False) as pipe:
            queued, reserved = pipe.llen(queue).hlen(CELERY_UNACKED).execute()
        return int(queued) + int(reserved)

    window = sustain([trigger] * TRIGGER_THREADS, depth, high_water, warmup, duration)
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
    by_sub_window = [sum(1 for moment in done if a <= moment < b) for a, b in sub_windows(window)]
    return summary(window, completed, completed, by_sub_window)


def date_done(meta: bytes) -> float:
    moment = datetime.fromisoformat(json.loads(meta)["date_done"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
