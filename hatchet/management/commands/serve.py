"""Serve HTTP and websockets with Daphne, sized for the configured message limit."""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from twisted.web.http import HTTPChannel

from hatchet.deployment import refuse_unsafe_settings


def refuse_oversized_header_line(channel: Any, _line: bytes) -> None:
    """Twisted closes the connection without a word on a request line or header longer
    than its line limit (a 100 KiB Authorization header): answer 431 first."""
    body = json.dumps(
        {
            "error": {
                "code": "headers_too_large",
                "message": f"A request header is longer than {channel.MAX_LENGTH} bytes.",
                "details": {},
            }
        }
    ).encode()
    channel.transport.write(
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )
    channel.loseConnection()


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
        HTTPChannel.lineLengthExceeded = refuse_oversized_header_line  # type: ignore[method-assign]
        CommandLineInterface().run(daphne_arguments(options["host"], options["port"]))
