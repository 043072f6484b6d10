"""GET /healthz and GET /readyz."""

from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from django.db import OperationalError
from django.test import Client
from typing_extensions import override

from hatchet import views


def test_healthz_answers_without_auth_or_database(client: Client) -> None:
    # No django_db mark: any query would fail this test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_channel_layer(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "channel_layer": "ok"}


class SilentLayer(InMemoryChannelLayer):
    """A layer that loses every message, like an unreachable Redis."""

    @override
    async def send(self, channel: str, message: dict[str, Any]) -> None:
        return None


@pytest.mark.django_db
def test_readyz_is_503_when_the_channel_layer_loses_messages(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "get_channel_layer", SilentLayer)
    monkeypatch.setattr(views, "READY_TIMEOUT_SECONDS", 0.05)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "not_ready",
            "message": "Not ready: channel_layer failed.",
            "details": {"database": "ok", "channel_layer": "failed"},
        }
    }


class BrokenConnection:
    def cursor(self) -> None:
        raise OperationalError("connection refused")


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "connection", BrokenConnection())

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"database": "failed", "channel_layer": "ok"}
