"""Token roles on a live server: a worker-scoped token runs a real SDK worker, and
revoking it over REST closes its sockets within a second (on another server process
too, with Redis) and refuses the reconnect; no token reaches the access log."""

import asyncio
import json
import os
import time
from typing import Any

import pytest
import websockets
from websockets.typing import Subprotocol

from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    api_client,
    receive_until_closed,
    serving_on_private_redis,
)

pytestmark = pytest.mark.e2e


def issue(server: LiveServer, name: str, role: str) -> dict[str, Any]:
    with server.api() as api:
        response = api.post("/tokens", json={"name": name, "role": role})
        assert response.status_code == 201, response.text
        return dict(response.json())


def revoke(server: LiveServer, token_id: str) -> None:
    with server.api() as api:
        assert api.delete(f"/tokens/{token_id}").status_code == 204


def ws_url(url: str, path: str) -> str:
    return url.replace("http", "ws", 1) + path


async def registered_socket(url: str, secret: str) -> Any:
    socket = await websockets.connect(
        ws_url(url, "/ws/worker"),
        subprotocols=[Subprotocol("hatchet.v1"), Subprotocol(f"hatchet.token.{secret}")],
    )
    await socket.send(json.dumps({"type": "register", "name": "raw", "actions": [], "slots": 1}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "registered"
    return socket


async def close_after_revoking(server: LiveServer, socket: Any, token_id: str) -> tuple[int, float]:
    """Revoke the token over REST; the socket's close code and how long after the
    revocation answered it closed."""
    await asyncio.to_thread(revoke, server, token_id)
    revoked_at = time.monotonic()
    with pytest.raises(websockets.ConnectionClosed):
        await receive_until_closed(socket, 5)
    return socket.close_code, time.monotonic() - revoked_at


async def refused_close_code(url: str, secret: str) -> int:
    async with websockets.connect(
        ws_url(url, "/ws/worker"), additional_headers={"Authorization": f"Bearer {secret}"}
    ) as socket:
        error = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert error["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 10)
        return int(socket.close_code or 0)


def test_a_worker_token_runs_a_real_worker_until_revoked(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    token = issue(hatchet_server, "worker host", "worker")
    worker = start_worker("scoped-worker", HATCHET_TOKEN=token["token"])
    run = hatchet_server.client().admin.run_workflow("FanOut", {"n": 2})
    assert run.result(timeout=30)["join"] == {"sum": 8}
    with api_client(hatchet_server.url, token["token"]) as host:
        assert [w["name"] for w in host.get("/workers").json()["results"]] == ["scoped-worker"]
        assert host.get("/runs").status_code == 403

    async def scenario() -> tuple[int, float, int]:
        socket = await registered_socket(hatchet_server.url, token["token"])
        code, seconds = await close_after_revoking(hatchet_server, socket, token["id"])
        return code, seconds, await refused_close_code(hatchet_server.url, token["token"])

    code, seconds, reconnect = asyncio.run(scenario())

    assert (code, reconnect) == (4401, 4401)
    assert seconds < 1, seconds
    # The SDK worker was closed with 4401 too: it stops instead of retrying forever.
    assert worker.wait(timeout=15) != 0
    assert (
        "the server refused the worker's token (close code 4401: invalid, missing or revoked)"
    ) in hatchet_server.tail_log()


def test_an_sdk_worker_on_an_editor_token_stops_with_the_reason(
    hatchet_server: LiveServer,
) -> None:
    """An editor may register workflows but not run workers: the worker stops (no
    reconnecting forever) and says why."""
    token = issue(hatchet_server, "wrong kind", "editor")
    worker = hatchet_server.spawn(
        *("-m", "tests.e2e.worker_app", "--name", "editor-worker", "--slots", "1"),
        HATCHET_SERVER_URL=hatchet_server.url,
        HATCHET_TOKEN=token["token"],
    )

    assert worker.wait(timeout=30) != 0
    log = hatchet_server.tail_log(400)
    assert (
        "the server refused the worker's token (close code 4403: its role may not run "
        "workers; use a worker token)"
    ) in log


def test_revoking_closes_the_tokens_socket_on_another_server_process(
    hatchet_server: LiveServer, second_server: str
) -> None:
    token = issue(hatchet_server, "elsewhere", "worker")

    async def scenario() -> tuple[int, float, int]:
        socket = await registered_socket(second_server, token["token"])
        code, seconds = await close_after_revoking(hatchet_server, socket, token["id"])
        return code, seconds, await refused_close_code(second_server, token["token"])

    code, seconds, reconnect = asyncio.run(scenario())

    assert (code, reconnect) == (4401, 4401)
    assert seconds < 1, seconds


def test_a_revocation_while_redis_is_down_still_closes_the_tokens_socket() -> None:
    """The revocation's announcement goes through Redis, which is down and loses it; the
    socket's own reads of its caller close it all the same."""
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("one process serves the embedded backend: its announcements stay in it")
    with serving_on_private_redis("hatchet_e2e_outage", HATCHET_CALLER_RECHECK_INTERVAL="1") as (
        server,
        outage,
    ):
        token = issue(server, "through-an-outage", "worker")

        async def scenario() -> int:
            socket = await registered_socket(server.url, token["token"])
            outage.stop()
            await asyncio.to_thread(revoke, server, token["id"])
            with pytest.raises(websockets.ConnectionClosed):
                await receive_until_closed(socket, 10)
            return int(socket.close_code or 0)

        assert asyncio.run(scenario()) == 4401


def test_no_token_reaches_the_access_log(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    token = issue(hatchet_server, "logged?", "worker")
    start_worker("unlogged-worker", HATCHET_TOKEN=token["token"])

    async def in_the_url() -> int:
        async with websockets.connect(
            ws_url(hatchet_server.url, f"/ws/worker?token={token['token']}")
        ) as socket:
            error = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert error["code"] == "token_in_url"
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)
            return int(socket.close_code or 0)

    assert asyncio.run(in_the_url()) == 4401
    log = hatchet_server.tail_log(100_000)
    assert "WSCONNECT /ws/worker" in log  # the access log is there, and is read
    assert token["token"] not in log
    assert hatchet_server.token not in log
