"""Fixtures shared by the suites: tenants, tokens, API clients, definitions."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from hatchet.asgi import router
from hatchet.models import APIToken, Tenant


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


def client_for(tenant: Tenant) -> APIClient:
    _, secret = APIToken.issue(tenant, "tests")
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
    _, secret = await database_sync_to_async(APIToken.issue)(tenant, "socket")
    socket = WebsocketCommunicator(
        router, path, headers=[(b"authorization", f"Bearer {secret}".encode())]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket
