"""Serve HTTP and websockets with Daphne, sized for the configured message limit."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hatchet.deployment import refuse_unsafe_settings


def daphne_arguments(host: str, port: int) -> list[str]:
    # Daphne drops a connection on a message over its own limit; with room above ours
    # the worker socket can answer an oversized message with a precise error instead.
    transport_limit = str(2 * settings.HATCHET_MAX_MESSAGE_BYTES)
    return [
        "-b",
        host,
        "-p",
        str(port),
        "--websocket-max-message-size",
        transport_limit,
        "--websocket-max-frame-size",
        transport_limit,
        # The client's address from X-Forwarded-For, which the sign-in throttle keys
        # on: believed only behind a proxy that sets it.
        *(["--proxy-headers"] if settings.HATCHET_TRUST_PROXY_HEADERS else []),
        "hatchet.asgi:application",
    ]


class Command(BaseCommand):
    help = "Serve Hatchet (HTTP + websockets) with Daphne."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)

    def handle(self, *args: Any, **options: Any) -> None:
        from daphne.cli import CommandLineInterface

        refuse_unsafe_settings()
        CommandLineInterface().run(daphne_arguments(options["host"], options["port"]))
