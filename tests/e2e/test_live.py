"""The run websocket: a snapshot, then status changes, log lines and stream chunks as
they happen; the stream is also stored for pages opened later."""

import asyncio
import json
import os
from typing import Any

import pytest
import websockets

from hatchet.sdk.workflow import workflow_spec_of
from tests.e2e.live import LiveServer, WorkerFactory, serving_on_private_redis
from tests.e2e.worker_app import Streams

pytestmark = pytest.mark.e2e


def run_socket_url(server: LiveServer, run_id: str) -> str:
    return server.url.replace("http", "ws") + f"/ws/runs/{run_id}"


def test_stream_chunks_and_statuses_arrive_live_and_are_stored(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    words = ["alpha ", "beta ", "gamma ", "delta"]
    client = hatchet_server.client()
    client.admin.register_workflow(workflow_spec_of(Streams).to_definition())
    # Queued before any worker serves it, so the socket is open before it starts.
    run = client.admin.run_workflow("Streams", {"words": words})

    async def watch() -> list[dict[str, Any]]:
        received = []
        async with websockets.connect(
            run_socket_url(hatchet_server, run.workflow_run_id),
            additional_headers={"Authorization": f"Bearer {hatchet_server.token}"},
        ) as socket:
            received.append(json.loads(await asyncio.wait_for(socket.recv(), 20)))
            await asyncio.to_thread(start_worker, "streaming-worker", 1)
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 20))
                received.append(message)
                if message["type"] == "run.status" and message["status"] == "SUCCEEDED":
                    return received

    messages = asyncio.run(watch())

    assert (messages[0]["type"], messages[0]["status"], messages[0]["lines"]) == (
        "run.snapshot",
        "PENDING",
        [],
    )
    lines = [m for m in messages if m["type"] == "step_run.line"]
    assert [m["text"] for m in lines if m["kind"] == "stream"] == words
    assert [m["text"] for m in lines if m["kind"] == "log"] == [f"said {w}" for w in words]
    step_statuses = [m["status"] for m in messages if m["type"] == "step_run.status"]
    assert step_statuses == ["ASSIGNED", "RUNNING", "SUCCEEDED"]
    with hatchet_server.api() as api:
        step_run_id = api.get(f"/runs/{run.workflow_run_id}").json()["step_runs"][0]["id"]
        stored = api.get(f"/step-runs/{step_run_id}/stream").json()
    assert stored["text"] == "".join(words)


def test_run_socket_refuses_bad_tokens_and_unknown_runs(hatchet_server: LiveServer) -> None:
    async def close_code(url: str, token: str) -> int | None:
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as socket:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 10)
            return socket.close_code

    unknown = run_socket_url(hatchet_server, "00000000-0000-4000-8000-000000000000")

    assert asyncio.run(close_code(unknown, "hct_wrong")) == 4401
    assert asyncio.run(close_code(unknown, hatchet_server.token)) == 4404


def test_a_run_page_gets_the_update_published_while_redis_was_down() -> None:
    """The cancel's update goes through Redis, which is down and loses it; once Redis is
    back, the socket's own re-read of the run sends it, without a reconnect."""
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("one process serves the embedded backend: its updates stay in it")
    with serving_on_private_redis("hatchet_e2e_live_outage", HATCHET_LIVE_REREAD_INTERVAL="1") as (
        server,
        outage,
    ):
        client = server.client()
        client.admin.register_workflow(workflow_spec_of(Streams).to_definition())
        run = client.admin.run_workflow("Streams", {"words": ["never"]})

        async def watch() -> list[dict[str, Any]]:
            async with websockets.connect(
                run_socket_url(server, run.workflow_run_id),
                additional_headers={"Authorization": f"Bearer {server.token}"},
            ) as socket:
                received = [json.loads(await asyncio.wait_for(socket.recv(), 20))]
                outage.stop()
                with server.api() as api:
                    cancelled = await asyncio.to_thread(
                        api.post, f"/runs/{run.workflow_run_id}/cancel"
                    )
                assert cancelled.status_code == 200, cancelled.text
                outage.start()
                while received[-1].get("status") != "CANCELLED":
                    received.append(json.loads(await asyncio.wait_for(socket.recv(), 15)))
                return received

        messages = asyncio.run(watch())

    assert (messages[0]["type"], messages[0]["status"]) == ("run.snapshot", "PENDING")
    assert messages[-1]["status"] == "CANCELLED"
