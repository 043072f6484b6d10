"""Periodic work that outlives database and Redis faults: `manage.py run_engine` and
the server's in-process ticker run the engine's tick and the refresh of pull requests
on it. Each pass runs in a thread on fresh connections; a pass that fails is logged,
the connections it broke are dropped so that the next pass reconnects, and the wait
before the next pass doubles with each failure in a row, back to the interval after
a success."""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from asgiref.sync import sync_to_async

from hatchet.concurrency import with_fresh_connections
from hatchet.db import drop_broken_connections
from hatchet.metrics import TICK_PASS_SECONDS

logger = logging.getLogger(__name__)

# The longest wait after failures (unless the interval is longer): once a fault
# clears, the work resumes within this long.
LONGEST_BACKOFF = 10.0


class PeriodicWork:
    def __init__(
        self,
        name: str,
        run_pass: Callable[[], Any],
        interval: float,
        *,
        first_after: float = 0.0,
        longest_backoff: float = LONGEST_BACKOFF,
    ) -> None:
        self.name = name
        self.run_pass = run_pass
        self.interval = interval
        self.longest_backoff = max(interval, longest_backoff)
        self.failures = 0
        self.due = time.monotonic() + first_after

    def run_once(self) -> None:
        """One pass, after which the next is due in the interval, or in the backoff
        if it failed."""
        began = time.monotonic()
        try:
            with_fresh_connections(self.run_pass)
        except Exception:
            TICK_PASS_SECONDS.labels(self.name, "failed").observe(time.monotonic() - began)
            drop_broken_connections()
            self.failures += 1
            wait = self.backoff()
            logger.exception(
                "%s failed (%d in a row); trying again in %.1f s", self.name, self.failures, wait
            )
        else:
            TICK_PASS_SECONDS.labels(self.name, "ok").observe(time.monotonic() - began)
            if self.failures:
                logger.warning("%s works again after %d failures", self.name, self.failures)
            self.failures = 0
            wait = self.interval
        self.due = time.monotonic() + wait

    def backoff(self) -> float:
        return min(self.interval * 2**self.failures, self.longest_backoff)

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.due - time.monotonic()))
            await sync_to_async(self.run_once, thread_sensitive=False)()


async def run_periodically(works: Sequence[PeriodicWork]) -> None:
    """Run each work whenever it is due; a slow pass of one holds back no other."""
    await asyncio.gather(*(work.run_forever() for work in works))
