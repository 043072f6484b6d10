"""Drive the periodic engine work without Celery beat (safe on many nodes), and the
refresh of the playground's open pull requests."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hatchet.ticker import tick
from playground.github import refresh_pull_request_states


class Command(BaseCommand):
    help = "Run timeouts, retries due and dead-worker checks in a loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=settings.HATCHET_TICK_INTERVAL)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        refresh_due = time.monotonic() + settings.HATCHET_GITHUB_REFRESH_INTERVAL
        while True:
            counts = tick()
            if time.monotonic() >= refresh_due:
                counts["pull_requests_refreshed"] = refresh_pull_request_states()
                refresh_due = time.monotonic() + settings.HATCHET_GITHUB_REFRESH_INTERVAL
            if options["once"]:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
                return
            time.sleep(options["interval"])
