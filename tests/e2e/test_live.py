"""The run websocket: a snapshot, then status changes, log lines and stream chunks as
they happen; the stream is also stored for pages opened later."""

import asyncio
import json
from typing import Any

import pytest
import websockets

from hatchet.sdk.workflow import workflow_spec_of
from tests.e2e.live import LiveServer, WorkerFactory
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
