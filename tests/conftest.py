"""Fixtures shared by the suites: tenants, tokens, API clients, definitions."""

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.dispatch import Signal
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import SignalCapture, client_for
from workers import consumers as worker_consumers
from workers import dispatch
from workflows import ticker


@pytest.fixture(autouse=True)
def fresh_cache(settings: Any) -> None:
    """Each test counts its throttles from zero: a cache namespace of its own (the
    services' Redis outlives a test)."""
    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def capture_signal() -> Iterator[SignalCapture]:
    """`capture_signal(signal, "argument")` is a list that each sending of `signal`
    appends its `argument` to (extends it by, with `many=True`) until the test ends."""
    connected: list[tuple[Signal, Callable[..., None]]] = []

    def capture(signal: Signal, argument: str, *, many: bool = False) -> list[Any]:
        received: list[Any] = []

        def receiver(**kwargs: Any) -> None:
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
def tenant(db: Any) -> Tenant:  # noqa: ARG001 (pytest-django's database access)
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:  # noqa: ARG001 (pytest-django's database access)
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


@pytest.fixture
def api(tenant: Tenant) -> APIClient:
    return client_for(tenant)


@pytest.fixture
def other_api(other_tenant: Tenant) -> APIClient:
    return client_for(other_tenant)
