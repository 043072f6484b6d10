"""Serve HTTP and websockets with Daphne, sized for the configured message limit."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


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
        "--proxy-headers",
        "hatchet.asgi:application",
    ]


class Command(BaseCommand):
    help = "Serve Hatchet (HTTP + websockets) with Daphne."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8080)

    def handle(self, *args: Any, **options: Any) -> None:
        from daphne.cli import CommandLineInterface

        CommandLineInterface().run(daphne_arguments(options["host"], options["port"]))
