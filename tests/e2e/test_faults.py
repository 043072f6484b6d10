"""Faults: workers killed, the server restarted, results sent twice."""

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
import websockets

from hatchet.sdk.workflow import workflow_spec_of
from tests.e2e import worker_app
from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    run_detail,
    step_run,
    stop_process,
    wait_for,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


def test_worker_killed_mid_step_is_requeued_and_the_run_succeeds_elsewhere(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    doomed = start_worker("doomed-worker", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "SlowOnce", {"seconds": 2, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob(f"started-*-{doomed.pid}")), timeout=20)

    doomed.send_signal(signal.SIGKILL)
    survivor = start_worker("survivor-worker", slots=1)

    assert run.result(timeout=40)["work"]["pid"] == survivor.pid
    work = step_run(wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED"), "work")
    assert [a["worker_name"] for a in work["attempts"]] == ["doomed-worker", "survivor-worker"]
    assert [a["status"] for a in work["attempts"]] == ["FAILED", "SUCCEEDED"]
    assert work["retry_count"] == 0


def test_server_restart_while_a_step_runs_loses_nothing_and_applies_the_result_once(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("steady-worker", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "SlowOnce", {"seconds": 3, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)

    hatchet_server.stop(signal.SIGKILL)
    # Down for longer than the worker and assignment-start timeouts (6 s, 5 s): the
    # silence is the server's, and must not cost the worker its step.
    time.sleep(7)
    hatchet_server.start()

    assert run.result(timeout=40)["work"]["attempt"] == 1
    work = step_run(wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED"), "work")
    assert len(work["attempts"]) == 1
    assert len(list(markers.glob("started-*"))) == 1
    assert len(list(markers.glob("finished-*"))) == 1


async def worker_socket(server: LiveServer, actions: list[str], slots: int = 1) -> Any:
    """A raw worker socket serving `actions` of the workflows in worker_app.py, which it
    registers first: a test that uses it does not rely on an SDK worker started before."""
    await register_definitions(server, actions)
    url, headers = worker_endpoint(server)
    socket = await websockets.connect(url, additional_headers=headers)
    await socket.send(
        json.dumps({"type": "register", "name": "raw-worker", "actions": actions, "slots": slots})
    )
    assert json.loads(await socket.recv())["type"] == "registered"
    return socket


def worker_endpoint(server: LiveServer) -> tuple[str, dict[str, str]]:
    """The worker socket's address and the headers that authenticate a worker there."""
    return (
        server.url.replace("http", "ws") + "/ws/worker",
        {"Authorization": f"Bearer {server.token}"},
    )


def quick_worker_registration(name: str) -> dict[str, Any]:
    return {"type": "register", "name": name, "actions": ["Quick:work"], "slots": 1}


async def register_definitions(server: LiveServer, actions: list[str]) -> None:
    """Register the worker_app workflows that `actions` belong to, as an SDK worker would."""
    for workflow in sorted({action.split(":")[0] for action in actions}):
        definition = workflow_spec_of(getattr(worker_app, workflow)).to_definition()
        await asyncio.to_thread(server.client().admin.register_workflow, definition)


async def receive(socket: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 20))
        if message["type"] == kind:
            return dict(message)


def test_the_same_completion_sent_twice_is_applied_once(hatchet_server: LiveServer) -> None:
    async def scenario() -> list[dict[str, Any]]:
        socket = await worker_socket(hatchet_server, ["FanOut:start"])
        await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "FanOut", {"n": 1})
        assign = await receive(socket, "step.assign")
        step = {"step_run_id": assign["step_run_id"], "attempt": assign["attempt"]}
        await socket.send(json.dumps({"type": "step.started", "id": "s1", **step}))
        acks = [await receive(socket, "ack")]
        for message_id in ("c1", "c1", "c2"):
            await socket.send(
                json.dumps({"type": "step.completed", "id": message_id, "output": {"n": 1}, **step})
            )
            acks.append(await receive(socket, "ack"))
        await socket.close()
        return acks

    acks = asyncio.run(scenario())

    assert [(a["id"], a["applied"]) for a in acks] == [
        ("s1", True),
        ("c1", True),
        ("c1", False),
        ("c2", False),
    ]


def test_sigterm_lets_a_running_step_finish_then_the_worker_exits(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    worker = start_worker("draining-worker", slots=1, HATCHET_WORKER_GRACE="15")
    run = hatchet_server.client().admin.run_workflow(
        "SlowOnce", {"seconds": 2, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)

    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=20) == 0
    assert run.result(timeout=10)["work"]["pid"] == worker.pid
    work = step_run(wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED"), "work")
    assert [a["status"] for a in work["attempts"]] == ["SUCCEEDED"]


def test_a_step_still_running_after_the_grace_period_is_handed_back(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    leaving = start_worker("leaving-worker", slots=1, HATCHET_WORKER_GRACE="1")
    run = hatchet_server.client().admin.run_workflow(
        "SlowOnce", {"seconds": 4, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob(f"started-*-{leaving.pid}")), timeout=20)

    leaving.send_signal(signal.SIGTERM)
    assert leaving.wait(timeout=20) == 0
    staying = start_worker("staying-worker", slots=1)

    assert run.result(timeout=40)["work"]["pid"] == staying.pid
    work = step_run(wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED"), "work")
    assert [(a["worker_name"], a["status"]) for a in work["attempts"]] == [
        ("leaving-worker", "FAILED"),
        ("staying-worker", "SUCCEEDED"),
    ]
    assert work["attempts"][0]["error"].startswith("handed back")
    assert work["retry_count"] == 0


def test_requests_after_the_servers_database_connections_are_terminated_all_succeed(
    hatchet_server: LiveServer,
) -> None:
    if hatchet_server.backend == "embedded":
        pytest.skip("SQLite has no server connections to terminate")
    with hatchet_server.api() as api:
        # Enough at once that the pool holds several connections.
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(lambda _: api.get("/runs").status_code, range(40))) == {200}
        with psycopg.connect(hatchet_server.env["DATABASE_URL"], autocommit=True) as admin:
            terminated = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert terminated is not None
        assert terminated[0] > 0
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: api.get("/runs").status_code, range(40)))
    assert statuses == [200] * 40


def test_a_killed_workers_step_is_queued_again_at_once(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    """Its socket closed without a drain and it did not come back: no waiting for the
    heartbeat timeout (6 s here)."""
    doomed = start_worker("killed-worker", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "SlowOnce", {"seconds": 30, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob(f"started-*-{doomed.pid}")), timeout=20)

    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    killed = time.monotonic()
    work = wait_for(
        lambda: (
            (s := step_run(run_detail(hatchet_server, run.workflow_run_id), "work"))["status"]
            == "QUEUED"
            and s
        ),
        timeout=15,
        interval=0.05,
    )
    took = time.monotonic() - killed

    assert took < 3, took
    assert [(a["status"], a["error"]) for a in work["attempts"]] == [
        ("FAILED", "worker's connection closed")
    ]
    with hatchet_server.api() as api:
        api.post(f"/runs/{run.workflow_run_id}/cancel").raise_for_status()


def test_a_worker_that_reconnects_at_once_keeps_its_step(hatchet_server: LiveServer) -> None:
    url, headers = worker_endpoint(hatchet_server)
    register = quick_worker_registration("reconnecting")

    async def scenario() -> dict[str, Any]:
        await register_definitions(hatchet_server, register["actions"])
        first = await websockets.connect(url, additional_headers=headers)
        await first.send(json.dumps(register))
        registered = await receive(first, "registered")
        resume = {"worker_id": registered["worker_id"], "resume_key": registered["resume_key"]}
        await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "Quick", {})
        assign = await receive(first, "step.assign")
        step = {"step_run_id": assign["step_run_id"], "attempt": assign["attempt"]}
        await first.send(json.dumps({"type": "step.started", "id": "s1", **step}))
        await receive(first, "ack")
        await first.close()
        again = await websockets.connect(url, additional_headers=headers)
        await again.send(json.dumps({**register, **resume}))
        assert (await receive(again, "registered"))["worker_id"] == resume["worker_id"]
        await asyncio.sleep(2)  # past the reconnect grace
        await again.send(json.dumps({"type": "step.completed", "id": "c1", "output": {}, **step}))
        ack = await receive(again, "ack")
        await again.close()
        return ack

    assert asyncio.run(scenario()) == {"type": "ack", "id": "c1", "applied": True}


def test_a_step_cancelled_while_its_workers_socket_was_down_is_stopped_after_it_reconnects(
    hatchet_server: LiveServer,
) -> None:
    """The stop order went out while no socket of the worker was open, and was lost: the
    worker's next beat lists the step as running, and the server stops it again."""
    url, headers = worker_endpoint(hatchet_server)
    register = quick_worker_registration("cut-off")

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        await register_definitions(hatchet_server, register["actions"])
        first = await websockets.connect(url, additional_headers=headers)
        await first.send(json.dumps(register))
        registered = await receive(first, "registered")
        resume = {"worker_id": registered["worker_id"], "resume_key": registered["resume_key"]}
        run = await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "Quick", {})
        assign = await receive(first, "step.assign")
        step = {"step_run_id": assign["step_run_id"], "attempt": assign["attempt"]}
        await first.send(json.dumps({"type": "step.started", "id": "s1", **step}))
        await receive(first, "ack")
        await first.close()
        with hatchet_server.api() as api:
            api.post(f"/runs/{run.workflow_run_id}/cancel").raise_for_status()
        again = await websockets.connect(url, additional_headers=headers)
        await again.send(json.dumps({**register, **resume}))
        await receive(again, "registered")
        await again.send(json.dumps({"type": "heartbeat", "running": [step]}))
        stop = await receive(again, "step.cancel")
        await again.close()
        return step, stop

    step, stop = asyncio.run(scenario())

    assert stop == {"type": "step.cancel", **step, "reason": "cancelled"}


def test_a_hung_worker_declared_dead_loses_its_socket_and_gets_no_more_work(
    hatchet_server: LiveServer,
) -> None:
    """It beats no more but its socket stays open (a blocking call in an async step)."""

    async def scenario() -> tuple[list[str], int | None, str]:
        hung = await worker_socket(hatchet_server, ["Quick:work"])
        seen: list[str] = []
        try:
            while True:  # until the server declares it dead, after 6 s of silence
                message = json.loads(await asyncio.wait_for(hung.recv(), 20))
                seen.append(message.get("code", message["type"]))
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
        run = await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "Quick", {})
        return seen, code, run.workflow_run_id

    seen, code, run_id = asyncio.run(scenario())

    # (Work queued before it fell silent may have reached it, as to any live worker.)
    assert (seen[-1], code) == ("worker_stopped", 4410)
    time.sleep(1)
    assert step_run(run_detail(hatchet_server, run_id), "work")["attempts"] == []
    with hatchet_server.api() as api:
        api.post(f"/runs/{run_id}/cancel").raise_for_status()


def test_a_tick_elsewhere_does_not_reap_the_workers_of_a_server_that_is_down(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    """run_engine beside the server: while the server is down its workers cannot beat,
    and must not lose their steps for it."""
    start_worker("patient-worker", slots=1)
    tick = hatchet_server.spawn("manage.py", "run_engine")
    try:
        run = hatchet_server.client().admin.run_workflow(
            "SlowOnce", {"seconds": 4, "markers": str(markers)}
        )
        wait_for(lambda: list(markers.glob("started-*")), timeout=20)
        hatchet_server.stop(signal.SIGKILL)
        time.sleep(9)  # longer than the worker timeout (6 s) and the start deadline (5 s)
        hatchet_server.start()

        assert run.result(timeout=40)["work"]["attempt"] == 1
    finally:
        stop_process(tick)
    work = step_run(wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED"), "work")
    assert len(work["attempts"]) == 1
    assert len(list(markers.glob("started-*"))) == 1


def test_a_sync_step_past_its_timeout_keeps_its_slot_until_its_thread_returns(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("one-slot-worker", slots=1)
    client = hatchet_server.client()
    runs = [
        client.admin.run_workflow("Overrun", {"seconds": 3, "markers": str(markers)})
        for _ in range(2)
    ]
    for run in runs:
        wait_for_status(hatchet_server, run.workflow_run_id, "FAILED", timeout=40)
    wait_for(lambda: len(list(markers.glob("finished-*"))) == 2, timeout=20)

    spans = sorted(
        (float(started.read_text()), float(finished.read_text()))
        for started in markers.glob("started-*")
        for finished in [markers / started.name.replace("started-", "finished-", 1)]
    )
    assert len(spans) == 2
    (_, first_end), (second_start, _) = spans
    assert second_start >= first_end  # never two threads in the one slot
