"""The periodic engine work (crons and schedules due, deadlines, dead workers), one
pass of it, and the in-process loops that drive it and the refresh of the
playground's pull requests in the embedded mode (Celery beat or `manage.py
run_engine` drive them elsewhere)."""

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from playground.github import refresh_pull_request_states
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


async def tick_forever(interval: float | None = None) -> None:
    interval = interval or settings.HATCHET_TICK_INTERVAL
    while True:
        try:
            counts = await sync_to_async(tick, thread_sensitive=False)()
            if any(counts.values()):
                logger.info("engine tick: %s", {k: v for k, v in counts.items() if v})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("engine tick failed")
        await asyncio.sleep(interval)


async def refresh_pull_requests_forever(interval: float | None = None) -> None:
    """The fallback to GitHub's webhook: the state of opened pull requests."""
    interval = interval or settings.HATCHET_GITHUB_REFRESH_INTERVAL
    while True:
        await asyncio.sleep(interval)
        try:
            updated = await sync_to_async(refresh_pull_request_states, thread_sensitive=False)()
            if updated:
                logger.info("pull requests refreshed: %d changed state", updated)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("refreshing pull requests failed")


_started: list[Any] = []


def start_in_process_ticker() -> None:
    """Start the loop once in this process, if the settings ask for it."""
    if _started or not settings.HATCHET_IN_PROCESS_TICKER:
        return
    loop = asyncio.get_running_loop()
    _started.append(loop.create_task(tick_forever()))
    _started.append(loop.create_task(refresh_pull_requests_forever()))
