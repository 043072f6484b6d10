"""Workers' labels and sticky runs with live workers: steps that require labels run only
where they are met, labels set while a worker runs take effect, and a hard-sticky run
whose worker is killed mid-step waits for that worker's restart, not another."""

import json
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    run_detail,
    step_run,
    wait_for,
    wait_for_status,
)

pytestmark = pytest.mark.e2e

GPU = json.dumps({"gpu": True, "memory_gb": 32})


def test_steps_requiring_labels_run_only_on_workers_that_have_them(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("plain-box", slots=5)
    start_worker("gpu-box", slots=5, E2E_WORKER_LABELS=GPU)
    client = hatchet_server.client()

    gpu_runs = client.admin.run_workflows("GpuOnly", [{"input": {"seconds": 0.2}}] * 6)
    plain_runs = client.admin.run_workflows("Quick", [{"input": {}}] * 6)

    for run in gpu_runs:
        detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=30)
        assert [a["worker_name"] for a in step_run(detail, "work")["attempts"]] == ["gpu-box"]
    for run in plain_runs:
        wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=30)


def test_labels_set_while_a_worker_runs_bring_it_the_steps_that_want_them(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("late-gpu", slots=2)
    client = hatchet_server.client()
    waiting = client.admin.run_workflow("GpuOnly", {})
    time.sleep(1.5)
    detail = run_detail(hatchet_server, waiting.workflow_run_id)
    assert detail["status"] == "PENDING"
    assert list(detail["step_waiting_reasons"].values()) == [
        "No live worker serving GpuOnly:work has the labels it requires: "
        "gpu = true, memory_gb >= 16."
    ]

    client.admin.run_workflow("Relabel", {"labels": {"gpu": True, "memory_gb": 64}})

    detail = wait_for_status(hatchet_server, waiting.workflow_run_id, "SUCCEEDED", timeout=30)
    assert [a["worker_name"] for a in step_run(detail, "work")["attempts"]] == ["late-gpu"]
    [late] = [
        w
        for w in client.request("GET", "/api/v1/workers?limit=500")["results"]
        if w["name"] == "late-gpu" and w["status"] == "ACTIVE"
    ]
    assert late["labels"] == {"gpu": True, "memory_gb": 64}


def test_a_hard_sticky_run_waits_for_its_worker_to_restart(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    workers = {name: start_worker(name, slots=2) for name in ("sticky-a", "sticky-b")}
    run = hatchet_server.client().admin.run_workflow(
        "StickyPair", {"seconds": 2, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)
    [first] = step_run(run_detail(hatchet_server, run.workflow_run_id), "first")["attempts"]
    chosen = first["worker_name"]
    other = ({"sticky-a", "sticky-b"} - {chosen}).pop()

    workers[chosen].send_signal(signal.SIGKILL)
    # The worker is declared dead (6 s without a beat) and its step goes back to the
    # queue, where the other worker, idle, may not take it.
    gone = "Its run sticks to worker {}, which is gone: it waits for a worker of that name."
    wait_for(
        lambda: (
            list(run_detail(hatchet_server, run.workflow_run_id)["step_waiting_reasons"].values())
            == [gone.format(chosen)]
        ),
        timeout=30,
    )
    time.sleep(1.5)
    detail = run_detail(hatchet_server, run.workflow_run_id)
    assert [a["worker_name"] for a in step_run(detail, "first")["attempts"]] == [chosen]

    start_worker(chosen, slots=2)

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=40)
    names = [a["worker_name"] for s in ("first", "second") for a in step_run(detail, s)["attempts"]]
    assert names == [chosen, chosen, chosen]
    assert other not in names
