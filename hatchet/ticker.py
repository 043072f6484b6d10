"""The periodic engine work (crons and schedules due, deadlines, dead workers), one
pass of it, and the loops that drive it and the refresh of the playground's pull
requests: in the server in the embedded mode, or in `manage.py run_engine` (Celery
beat drives them elsewhere)."""

import asyncio
import logging
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from hatchet.periodic import PeriodicWork, run_periodically
from playground.github.refresh import refresh_pull_request_states
from workers.registry import check_workers
from workflows.engine.crons import fire_due_crons
from workflows.engine.maintenance import run_deadlines
from workflows.engine.schedules import fire_due_schedules

logger = logging.getLogger(__name__)


def fire_triggers() -> dict[str, int]:
    """Crons and schedules due; safe on many nodes at once."""
    close_old_connections()
    return {"schedules_fired": fire_due_schedules(), "crons_fired": fire_due_crons()}


def tick(*, triggers: bool = True) -> dict[str, int]:
    """Crons and schedules due, deadlines passed, and workers that went silent or
    never started what they were given; safe on many nodes at once."""
    counts = fire_triggers() if triggers else {}
    close_old_connections()
    counts.update(run_deadlines())
    counts.update(check_workers())
    return counts


def engine_work(*, tick_interval: float | None = None) -> list[PeriodicWork]:
    """The tick, every `tick_interval` seconds (HATCHET_TICK_INTERVAL), and the fallback
    to GitHub's webhook for the state of opened pull requests; as run_engine and the
    in-process ticker run them."""

    def engine_tick() -> None:
        counts = tick()
        if any(counts.values()):
            logger.info("engine tick: %s", {k: v for k, v in counts.items() if v})

    def refresh_pull_requests() -> None:
        updated = refresh_pull_request_states()
        if updated:
            logger.info("pull requests refreshed: %d changed state", updated)

    refresh_interval = settings.HATCHET_GITHUB_REFRESH_INTERVAL
    return [
        PeriodicWork("engine tick", engine_tick, tick_interval or settings.HATCHET_TICK_INTERVAL),
        PeriodicWork(
            "pull request refresh",
            refresh_pull_requests,
            refresh_interval,
            first_after=refresh_interval,
        ),
    ]


_started: list[Any] = []


def start_in_process_ticker() -> None:
    """Start the loop once in this process, if the settings ask for it."""
    if _started or not settings.HATCHET_IN_PROCESS_TICKER:
        return
    _started.append(asyncio.get_running_loop().create_task(run_periodically(engine_work())))
