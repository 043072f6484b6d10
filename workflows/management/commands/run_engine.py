"""Drive the periodic engine work without Celery beat (safe on many nodes), and the
refresh of the playground's pull requests; database and Redis faults cost passes,
never the process."""

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hatchet.deployment import refuse_unsafe_settings
from hatchet.periodic import run_periodically
from workflows.ticker import engine_work, tick


class Command(BaseCommand):
    help = "Run timeouts, retries due and dead-worker checks in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=settings.HATCHET_TICK_INTERVAL)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_unsafe_settings()
        if options["once"]:
            counts = tick()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
            return
        asyncio.run(run_periodically(engine_work(tick_interval=options["interval"])))
