"""Sockets follow the caller they were opened by: revoking its token, removing the
member or giving a role that may not use the socket closes it within a second; a
worker token opens no dashboard socket; the token rides in a subprotocol, never in the
URL."""

import json
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

import hatchet.auth
import workers.consumers
from hatchet.asgi import router
from hatchet.auth import Caller, token_caller
from hatchet.members import change_role, remove_member
from hatchet.models import APIToken, Membership, Tenant, TokenRole
from hatchet.tokens import revoke_token
from tests.factories import register, start_run
from workers.dispatch import Dispatcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_dispatcher(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs its sockets on an event loop of its own: so does its dispatcher."""
    monkeypatch.setattr(workers.consumers, "dispatcher", Dispatcher())


def token_headers(secret: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {secret}".encode())]


def member_headers(tenant: Tenant, role: str) -> tuple[Membership, list[tuple[bytes, bytes]]]:
    """A signed-in member's session cookie, sent from our own page."""
    user = get_user_model().objects.create_user("pat", password="not-used-here")
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    return membership, [(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]


def watched_run_and_member(
    tenant: Tenant, role: str
) -> tuple[Any, Membership, list[tuple[bytes, bytes]]]:
    """A run to watch, and a member with `role` beside an admin who can change them."""
    register(tenant)
    run = start_run(tenant)
    membership, headers = member_headers(tenant, role)
    Membership.objects.create(
        tenant=tenant,
        user=get_user_model().objects.create_user("ada", password="unused"),
        role="admin",
    )
    return run, membership, headers


async def closed_within(socket: WebsocketCommunicator, change: Any, seconds: float = 1) -> int:
    """Make the change (in a database thread) and return the close code the socket
    gets within `seconds` of it."""
    await database_sync_to_async(change)()
    changed_at = time.monotonic()
    message = await socket.receive_output(timeout=seconds)
    if message["type"] == "websocket.send":  # the worker socket says why first
        assert json.loads(message["text"])["type"] == "error"
        message = await socket.receive_output(timeout=seconds)
    assert message["type"] == "websocket.close", message
    assert time.monotonic() - changed_at < seconds
    return int(message["code"])


async def opened(path: str, headers: list[tuple[bytes, bytes]], **kwargs: Any) -> Any:
    socket = WebsocketCommunicator(router, path, headers=headers, **kwargs)
    connected, subprotocol = await socket.connect()
    assert connected
    return socket, subprotocol


async def worker_socket_refusal(
    path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[dict[str, Any], int]:
    """The error a worker socket refused at its opening sends, and its close code."""
    socket, _ = await opened(path, headers)
    error = await socket.receive_json_from(timeout=5)
    return error, (await socket.receive_output(timeout=5))["code"]


@pytest.mark.parametrize(
    "end",
    # Revoked through the API, or its row deleted (as the admin site does).
    [revoke_token, APIToken.delete],
    ids=["revoked", "deleted"],
)
def test_revoking_or_deleting_a_token_closes_its_run_socket(tenant: Tenant, end: Any) -> None:
    register(tenant)
    run = start_run(tenant)
    token, secret = APIToken.issue(tenant, "viewer", TokenRole.VIEWER)

    async def scenario() -> int:
        socket, _ = await opened(f"/ws/runs/{run.pk}", token_headers(secret))
        assert (await socket.receive_json_from(timeout=5))["type"] == "run.snapshot"
        return await closed_within(socket, lambda: end(token))

    assert async_to_sync(scenario)() == 4401


def test_revoking_a_token_closes_its_worker_socket_with_the_reason(tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "worker", TokenRole.WORKER)

    async def scenario() -> tuple[dict[str, Any], int]:
        socket, _ = await opened("/ws/worker", token_headers(secret))
        await socket.send_json_to({"type": "register", "name": "w", "actions": [], "slots": 1})
        assert (await socket.receive_json_from(timeout=5))["type"] == "registered"
        await database_sync_to_async(revoke_token)(token)
        error = await socket.receive_json_from(timeout=1)
        closed = await socket.receive_output(timeout=1)
        return error, closed["code"]

    error, code = async_to_sync(scenario)()

    assert error == {
        "type": "error",
        "code": "unauthorized",
        "message": "The token or membership was revoked.",
    }
    assert code == 4401


def test_revoking_another_token_leaves_the_socket_open(tenant: Tenant) -> None:
    register(tenant)
    run = start_run(tenant)
    _, secret = APIToken.issue(tenant, "kept", TokenRole.VIEWER)
    other, _ = APIToken.issue(tenant, "other", TokenRole.VIEWER)

    async def scenario() -> bool:
        socket, _ = await opened(f"/ws/runs/{run.pk}", token_headers(secret))
        await socket.receive_json_from(timeout=5)
        await database_sync_to_async(revoke_token)(other)
        quiet: bool = await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return quiet

    assert async_to_sync(scenario)()


def test_removing_a_member_closes_their_sessions_sockets(tenant: Tenant) -> None:
    run, membership, headers = watched_run_and_member(tenant, "editor")

    async def scenario() -> int:
        socket, _ = await opened(f"/ws/runs/{run.pk}", headers)
        await socket.receive_json_from(timeout=5)
        return await closed_within(socket, lambda: remove_member(tenant, membership.pk))

    assert async_to_sync(scenario)() == 4401


def test_a_role_change_is_rechecked_and_closes_only_what_the_role_may_not_use(
    tenant: Tenant,
) -> None:
    run, membership, headers = watched_run_and_member(tenant, "admin")

    async def scenario() -> tuple[bool, int]:
        watching, _ = await opened(f"/ws/runs/{run.pk}", headers)
        await watching.receive_json_from(timeout=5)
        worker, _ = await opened("/ws/worker", headers)
        code = await closed_within(worker, lambda: change_role(tenant, membership.pk, "editor"))
        still_open: bool = await watching.receive_nothing(timeout=0.5)
        await watching.disconnect()
        return still_open, code

    still_open, code = async_to_sync(scenario)()

    assert (still_open, code) == (True, 4403)


@pytest.mark.parametrize("path", ["/ws/runs/00000000-0000-4000-8000-000000000000"])
def test_a_worker_token_opens_no_dashboard_socket(tenant: Tenant, path: str) -> None:
    _, secret = APIToken.issue(tenant, "worker", TokenRole.WORKER)

    async def scenario() -> tuple[dict[str, Any], bool]:
        watching, _ = await opened(path, token_headers(secret))
        closed = await watching.receive_output(timeout=5)
        client = WebsocketCommunicator(router, "/ws/client", headers=token_headers(secret))
        client_connected, _ = await client.connect()
        return closed, client_connected

    closed, client_connected = async_to_sync(scenario)()

    assert (closed["type"], closed["code"]) == ("websocket.close", 4403)
    assert client_connected is False


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_worker_and_admin_tokens_run_workers(tenant: Tenant, role: str) -> None:
    _, secret = APIToken.issue(tenant, role, role)

    error, code = async_to_sync(worker_socket_refusal)("/ws/worker", token_headers(secret))

    assert error == {
        "type": "error",
        "code": "forbidden",
        "message": f"The {role} role cannot run workers: "
        "use a worker token (create_api_token --role worker).",
    }
    assert code == 4403


def test_the_token_rides_in_a_subprotocol(tenant: Tenant) -> None:
    _, secret = APIToken.issue(tenant, "worker", TokenRole.WORKER)

    async def scenario() -> tuple[str | None, str]:
        socket, subprotocol = await opened(
            "/ws/worker", [], subprotocols=["hatchet.v1", f"hatchet.token.{secret}"]
        )
        await socket.send_json_to({"type": "register", "name": "w", "actions": [], "slots": 1})
        registered = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return subprotocol, registered["type"]

    assert async_to_sync(scenario)() == ("hatchet.v1", "registered")


def test_a_token_in_the_url_is_refused(tenant: Tenant) -> None:
    _, secret = APIToken.issue(tenant, "worker", TokenRole.WORKER)

    error, code = async_to_sync(worker_socket_refusal)(f"/ws/worker?token={secret}", [])

    assert error == {
        "type": "error",
        "code": "token_in_url",
        "message": "A token in the URL (?token=) is refused: access logs and proxies record "
        "URLs. Send it in the Authorization header or as the subprotocol "
        "'hatchet.token.<token>'.",
    }
    assert code == 4401


def test_a_revocation_just_before_the_socket_follows_its_caller_is_not_missed(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handshake read the token while it was live; it was revoked (and announced
    to nobody) before the socket joined its group."""
    token, secret = APIToken.issue(tenant, "worker", TokenRole.WORKER)
    read_at_handshake = token_caller(APIToken.authenticate(secret))  # type: ignore[arg-type]
    revoke_token(token)

    async def stale_caller(_scope: dict[str, Any]) -> Caller:
        return read_at_handshake

    monkeypatch.setattr(hatchet.auth, "caller_for_scope", stale_caller)

    error, code = async_to_sync(worker_socket_refusal)("/ws/worker", token_headers(secret))

    assert (error["code"], code) == ("unauthorized", 4401)


def test_deleting_a_user_closes_their_sessions_sockets(tenant: Tenant) -> None:
    """The admin site deletes users; their memberships go with them."""
    run, membership, headers = watched_run_and_member(tenant, "editor")

    async def scenario() -> int:
        socket, _ = await opened(f"/ws/runs/{run.pk}", headers)
        await socket.receive_json_from(timeout=5)
        return await closed_within(socket, lambda: membership.user.delete())

    assert async_to_sync(scenario)() == 4401
