"""The engine end to end: a live server, real SDK workers, real runs."""

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hatchet.sdk import WorkflowRunFailed
from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    run_detail,
    step_run,
    wait_for,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


def seconds_between(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


def test_fan_out_and_in_passes_parents_outputs(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("fan-worker", slots=4)
    run = hatchet_server.client().admin.run_workflow("FanOut", {"n": 3})

    result = run.result(timeout=30)

    assert result == {
        "start": {"n": 3},
        "double": {"value": 6},
        "square": {"value": 9},
        "join": {"sum": 15},
    }
    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED")
    join = step_run(detail, "join")
    assert join["parents"] == ["double", "square"]
    assert join["started_at"] >= max(
        step_run(detail, parent)["finished_at"] for parent in ("double", "square")
    )


def test_step_that_always_raises_fails_after_its_retries_with_backoff(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("failing-worker", slots=2)
    run = hatchet_server.client().admin.run_workflow("AlwaysFails", {})

    with pytest.raises(WorkflowRunFailed, match="boom on retry 2"):
        run.result(timeout=30)

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "FAILED")
    explode = step_run(detail, "explode")
    assert explode["status"] == "FAILED"
    attempts = explode["attempts"]
    assert [a["status"] for a in attempts] == ["FAILED", "FAILED", "FAILED"]
    assert [a["error"] for a in attempts] == [
        "RuntimeError: boom on retry 0",
        "RuntimeError: boom on retry 1",
        "RuntimeError: boom on retry 2",
    ]
    assert all("Traceback" in a["traceback"] for a in attempts)
    # Backoff of 1 s then 2 s between the attempts.
    assert seconds_between(attempts[0]["finished_at"], attempts[1]["started_at"]) >= 1.0
    assert seconds_between(attempts[1]["finished_at"], attempts[2]["started_at"]) >= 2.0


def test_a_non_retryable_error_fails_at_once_and_the_on_failure_step_sees_it(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("refund-worker", slots=2)
    run = hatchet_server.client().admin.run_workflow("Refund", {"order": 7})

    with pytest.raises(WorkflowRunFailed, match="no order 7"):
        run.result(timeout=30)

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "FAILED")
    assert detail["error"] == "Step 'refund' failed: NonRetryableError: no order 7"
    refund, report = step_run(detail, "refund"), step_run(detail, "report")
    assert [a["status"] for a in refund["attempts"]] == ["FAILED"]
    assert report["status"] == "SUCCEEDED"
    assert report["output"] == {
        "order": 7,
        "errors": {"refund": "NonRetryableError: no order 7"},
    }
    assert report["started_at"] >= refund["finished_at"]
    assert detail["finished_at"] >= report["finished_at"]


def test_step_past_its_timeout_is_timed_out_and_frees_the_slot(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("sleepy-worker", slots=1)
    client = hatchet_server.client()
    run = client.admin.run_workflow("Sleepy", {"seconds": 20, "markers": str(markers)})

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "FAILED", timeout=20)

    nap = step_run(detail, "nap")
    assert nap["status"] == "TIMED_OUT"
    assert nap["attempts"][0]["status"] == "TIMED_OUT"
    assert "timed out after 1s" in nap["error"]
    wait_for(lambda: list(markers.glob("stopped-*")), timeout=10)
    # The only slot is free again: a quick run goes through on the same worker.
    assert client.admin.run_workflow("Sleepy", {"seconds": 0}).result(timeout=20) == {
        "nap": {"slept": True}
    }


def test_cancelling_a_running_run_stops_its_step(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("waiting-worker", slots=1)
    client = hatchet_server.client()
    run = client.admin.run_workflow("Waits", {"seconds": 60, "markers": str(markers)})
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)

    with hatchet_server.api() as api:
        response = api.post(f"/runs/{run.workflow_run_id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    wait_for(lambda: list(markers.glob("stopped-*")), timeout=10)
    assert not list(markers.glob("finished-*"))
    detail = wait_for_status(hatchet_server, run.workflow_run_id, "CANCELLED")
    assert step_run(detail, "wait")["status"] == "CANCELLED"


def test_a_busy_worker_takes_the_most_urgent_steps_first_across_workflows(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("one-slot-worker", slots=1)
    client = hatchet_server.client()
    busy = client.admin.run_workflow("Waits", {"seconds": 2, "markers": str(markers)})
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)
    # Queued while the only slot is busy: two of priority 1, then Urgent (priority 3 by
    # its workflow), then a Quick run triggered with priority 4.
    runs = {
        "first": client.admin.run_workflow("Quick", {}),
        "second": client.admin.run_workflow("Quick", {}),
        "urgent": client.admin.run_workflow("Urgent", {}),
        "most urgent": client.admin.run_workflow("Quick", {}, priority=4),
    }

    started = {name: run.result(timeout=30)["work"]["started"] for name, run in runs.items()}

    assert busy.result(timeout=30) == {"wait": {"waited": True}}
    assert sorted(started, key=started.__getitem__) == ["most urgent", "urgent", "first", "second"]
    priorities = {
        name: hatchet_server.client().admin.get_run(run.workflow_run_id)["priority"]
        for name, run in runs.items()
    }
    assert priorities == {"first": 1, "second": 1, "urgent": 3, "most urgent": 4}


def test_a_customer_flooding_a_concurrency_key_cannot_starve_another(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("fair-worker", slots=4)
    client = hatchet_server.client()
    flood = client.admin.run_workflows(
        "PerCustomer", [{"input": {"customer": "flood", "seconds": 0.2}}] * 40
    )
    others = []
    for _ in range(5):
        time.sleep(0.3)
        others.append(
            client.admin.run_workflow("PerCustomer", {"customer": "other", "seconds": 0.2})
        )

    def waits(runs: list[Any]) -> list[float]:
        """Seconds from each run's creation to its step's start."""
        details = [
            wait_for_status(hatchet_server, r.workflow_run_id, "SUCCEEDED", timeout=60)
            for r in runs
        ]
        return [
            step_run(d, "work")["output"]["started"]
            - datetime.fromisoformat(d["created_at"]).timestamp()
            for d in details
        ]

    other_waits, flood_waits = waits(others), waits(flood)
    # Two at a time, 0.2 s each: the flood's last run waited ~4 s; the other customer's
    # runs started as they came, beside it.
    assert max(flood_waits) > 3
    assert max(other_waits) < 1.5, other_waits
    running = [
        (output["started"], output["finished"])
        for output in (r.result(timeout=30)["work"] for r in flood)
    ]
    assert max_overlap(running) <= 2


def test_a_customer_flooding_a_steps_concurrency_key_cannot_starve_another(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("step-fair-worker", slots=4)
    client = hatchet_server.client()
    flood = client.admin.run_workflows(
        "PerCustomerStep", [{"input": {"customer": "flood", "seconds": 0.2}}] * 30
    )
    time.sleep(0.3)
    other = client.admin.run_workflow("PerCustomerStep", {"customer": "other", "seconds": 0.2})

    def span(run: Any) -> tuple[float, float]:
        output = run.result(timeout=60)["work"]
        return output["started"], output["finished"]

    flood_spans = [span(run) for run in flood]
    other_started = span(other)[0]
    created = datetime.fromisoformat(
        run_detail(hatchet_server, other.workflow_run_id)["created_at"]
    )
    # Two at a time, 0.2 s each: the flood takes ~3 s; the other customer's step started
    # as it came, beside it, though 28 of the flood's were queued ahead of it.
    assert max(start for start, _ in flood_spans) - min(s for s, _ in flood_spans) > 2.5
    assert other_started - created.timestamp() < 1.5
    assert max_overlap(flood_spans) <= 2


def test_workflows_sharing_a_concurrency_scope_share_its_limit_per_key(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("account-worker", slots=4)
    client = hatchet_server.client()
    charge = client.admin.run_workflow("AccountCharge", {"account": 1, "seconds": 0.5})
    refund = client.admin.run_workflow("AccountRefund", {"account": 1, "seconds": 0.5})
    elsewhere = client.admin.run_workflow("AccountRefund", {"account": 2, "seconds": 0.5})

    spans = {
        name: (out["started"], out["finished"])
        for name, run in (("charge", charge), ("refund", refund), ("elsewhere", elsewhere))
        for out in [run.result(timeout=30)["work"]]
    }

    assert spans["refund"][0] >= spans["charge"][1]
    assert spans["elsewhere"][0] < spans["charge"][1]


def max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_a_thousand_runs_matching_a_filter_are_cancelled_at_once(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("bulk-worker", slots=2)
    client = hatchet_server.client()
    runs = client.admin.run_workflows(
        "Waits", [{"input": {"seconds": 60, "markers": str(markers)}}] * 1000
    )
    wait_for(lambda: len(list(markers.glob("started-*"))) == 2, timeout=20)

    with hatchet_server.api() as api:
        counted = api.get("/runs", params={"workflow": "Waits", "status": "PENDING,RUNNING"})
        response = api.post(
            "/runs/cancel", params={"workflow": "Waits", "status": "PENDING,RUNNING"}
        )

    assert counted.json()["count"] == 1000
    assert response.json() == {"matched": 1000, "cancelled": 1000}
    # Every attempt that started (the two running, and any taken back and run again
    # before the cancel) is told to stop, on the worker.
    try:
        wait_for(
            lambda: not attempts_marked(markers, "started") - attempts_marked(markers, "stopped"),
            timeout=10,
        )
    except AssertionError:
        raise AssertionError(
            f"started {sorted(attempts_marked(markers, 'started'))}, "
            f"stopped {sorted(attempts_marked(markers, 'stopped'))}:\n{hatchet_server.tail_log()}"
        ) from None
    for run in (runs[0], runs[500], runs[-1]):
        assert (
            wait_for_status(hatchet_server, run.workflow_run_id, "CANCELLED")["error"]
            == "Cancelled."
        )


def attempts_marked(markers: Path, event: str) -> set[str]:
    """The `step run id-attempt-pid` of the attempts that wrote an `event` marker."""
    return {path.name.removeprefix(f"{event}-") for path in markers.glob(f"{event}-*")}


def test_two_hundred_runs_on_five_slots_never_run_more_than_five_at_once(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("busy-worker", slots=5)
    client = hatchet_server.client()
    runs = [client.admin.run_workflow("Quick", {"seconds": 0.02}) for _ in range(200)]

    outputs = [run.result(timeout=120)["work"] for run in runs]

    peak = max_overlap([(o["started"], o["finished"]) for o in outputs])
    assert len(outputs) == 200
    assert 1 < peak <= 5
