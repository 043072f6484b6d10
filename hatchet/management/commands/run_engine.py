"""Drive the periodic engine work without Celery beat (safe on many nodes)."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hatchet.ticker import tick


class Command(BaseCommand):
    help = "Run timeouts, retries due and dead-worker checks in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=settings.HATCHET_TICK_INTERVAL)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            counts = tick()
            if options["once"]:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
                return
            time.sleep(options["interval"])
