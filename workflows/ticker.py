"""The periodic engine work (crons and schedules due, deadlines, and what the other apps
do on each tick: dead workers), one pass of it, and the loops that drive it beside the
other apps' periodic work (the refresh of the playground's pull requests): in the server
in the embedded mode, or in `manage.py run_engine` (Celery beat drives them elsewhere).
The other apps add their parts when they start (`add_tick_pass`, `add_periodic_work` in
their `AppConfig.ready`): this module imports none of them."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from hatchet.periodic import PeriodicWork, run_periodically
from workflows.engine.concurrency import settle_waiting_keys
from workflows.engine.crons import fire_due_crons
from workflows.engine.durable import run_waits
from workflows.engine.idempotency import forget_spent_keys
from workflows.engine.maintenance import run_deadlines
from workflows.engine.overview import sample_queue_depths
from workflows.engine.pausing import release_waiting_runs
from workflows.engine.rate_limits import forget_spent_uses
from workflows.engine.retention import prune_history_pass
from workflows.engine.schedules import fire_due_schedules

logger = logging.getLogger(__name__)

_tick_passes: list[Callable[[], dict[str, int]]] = []
_periodic_work_makers: list[Callable[[], PeriodicWork]] = []


def add_tick_pass(run_pass: Callable[[], dict[str, int]]) -> None:
    """Run `run_pass` on every pass of the tick, after the engine's own work; it returns
    its counts."""
    if run_pass not in _tick_passes:
        _tick_passes.append(run_pass)


def add_periodic_work(make_work: Callable[[], PeriodicWork]) -> None:
    """Run the work `make_work` makes beside the tick wherever a loop drives it."""
    if make_work not in _periodic_work_makers:
        _periodic_work_makers.append(make_work)


def fire_triggers() -> dict[str, int]:
    """Crons and schedules due; safe on many nodes at once."""
    close_old_connections()
    return {"schedules_fired": fire_due_schedules(), "crons_fired": fire_due_crons()}


def tick(*, triggers: bool = True) -> dict[str, int]:
    """Crons and schedules due, deadlines passed, durable waits over, runs a resume left
    waiting, rate limit uses and idempotency keys out of their windows, the minute's
    queue depths (once a minute), and the other apps' part of the tick (workers that
    went silent or never started what they were given); safe on many nodes at once."""
    counts = fire_triggers() if triggers else {}
    close_old_connections()
    counts.update(run_deadlines())
    counts.update(run_waits())
    counts["paused_runs_released"] = release_waiting_runs()
    counts["concurrency_keys_settled"] = settle_waiting_keys()
    counts["rate_limit_uses_forgotten"] = forget_spent_uses(timezone.now())
    counts["idempotency_keys_forgotten"] = forget_spent_keys(timezone.now())
    counts.update(sample_queue_depths())
    for run_pass in _tick_passes:
        counts.update(run_pass())
    return counts


def engine_work(*, tick_interval: float | None = None) -> list[PeriodicWork]:
    """The tick, every `tick_interval` seconds (HATCHET_TICK_INTERVAL), and the other
    apps' periodic work; as run_engine and the in-process ticker run them."""

    def engine_tick() -> None:
        counts = tick()
        if any(counts.values()):
            logger.info("engine tick: %s", {k: v for k, v in counts.items() if v})

    def prune_history() -> None:
        counts = prune_history_pass()
        if any(counts.values()):
            logger.info("history retention: %s", counts)

    interval = tick_interval or settings.HATCHET_TICK_INTERVAL
    retention_interval = settings.HATCHET_RETENTION_INTERVAL
    return [
        PeriodicWork("engine tick", engine_tick, interval),
        PeriodicWork(
            "history retention", prune_history, retention_interval, first_after=retention_interval
        ),
        *(make_work() for make_work in _periodic_work_makers),
    ]


_started: list[Any] = []


def start_in_process_ticker() -> None:
    """Start the loop once in this process, if the settings ask for it."""
    if _started or not settings.HATCHET_IN_PROCESS_TICKER:
        return
    _started.append(asyncio.get_running_loop().create_task(run_periodically(engine_work())))
