"""Fixtures shared by the suites: tenants, tokens, API clients, definitions."""

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.dispatch import Signal
from rest_framework.test import APIClient

from hatchet.asgi import router
from hatchet.models import APIToken, Tenant, TokenRole
from workers import consumers as worker_consumers
from workers import dispatch
from workflows import ticker


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    """Each test counts its throttles from zero: a cache namespace of its own (the
    services' Redis outlives a test)."""
    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


SignalCapture = Callable[..., list[Any]]


@pytest.fixture
def capture_signal() -> Iterator[SignalCapture]:
    """`capture_signal(signal, "argument")` is a list that each sending of `signal`
    appends its `argument` to (extends it by, with `many=True`) until the test ends."""
    connected: list[tuple[Signal, Callable[..., None]]] = []

    def capture(signal: Signal, argument: str, *, many: bool = False) -> list[Any]:
        received: list[Any] = []

        def receiver(sender: Any, **kwargs: Any) -> None:
            if many:
                received.extend(kwargs[argument])
            else:
                received.append(kwargs[argument])

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return received

    yield capture
    for signal, receiver in connected:
        signal.disconnect(receiver)


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def in_process_ticker(settings: Any) -> Iterator[Callable[[], None]]:
    """Starts the server's in-process ticker on an event loop of its own (once the
    test has set its intervals); it stops at the end."""
    settings.HATCHET_IN_PROCESS_TICKER = True
    loop = asyncio.new_event_loop()
    stopped = threading.Event()

    async def serve() -> None:
        ticker.start_in_process_ticker()
        while not stopped.is_set():
            await asyncio.sleep(0.05)
        for task in ticker._started:
            task.cancel()
        await asyncio.gather(*ticker._started, return_exceptions=True)
        ticker._started.clear()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),))
    yield thread.start
    stopped.set()
    if thread.is_alive():
        thread.join()
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


@pytest.fixture
def own_dispatcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dispatcher for this test's worker sockets: the process's one starts on the
    first socket's event loop and would outlive it (later wake-ups fail with 'Event
    loop is closed')."""
    fresh = dispatch.Dispatcher()
    monkeypatch.setattr(dispatch, "dispatcher", fresh)
    monkeypatch.setattr(worker_consumers, "dispatcher", fresh)


def client_for(tenant: Tenant) -> APIClient:
    _, secret = APIToken.issue(tenant, "tests", TokenRole.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api(tenant: Tenant) -> APIClient:
    return client_for(tenant)


@pytest.fixture
def other_api(other_tenant: Tenant) -> APIClient:
    return client_for(other_tenant)


def definition(name: str = "Chain", steps: Any = None, **fields: Any) -> dict[str, Any]:
    """A workflow definition as the SDK sends it; a -> b -> c unless told otherwise."""
    if steps is None:
        steps = [
            {"name": "a", "parents": []},
            {"name": "b", "parents": ["a"]},
            {"name": "c", "parents": ["b"]},
        ]
    return {"name": name, "steps": steps, **fields}


async def open_socket(tenant: Tenant, path: str) -> WebsocketCommunicator:
    """A dashboard socket at `path`, connected with a new token of `tenant`."""
    _, secret = await database_sync_to_async(APIToken.issue)(tenant, "socket", TokenRole.ADMIN)
    socket = WebsocketCommunicator(
        router, path, headers=[(b"authorization", f"Bearer {secret}".encode())]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


def filled(value: Any, ids: dict[str, str]) -> Any:
    """`value` with each `{name}` in its strings replaced by `ids[name]`."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value
