"""Child workflows and durable steps with a live server and real SDK workers: fan-out
and join, a retried parent that spawns nothing twice, a child's failure caught by its
parent, cancellation that reaches the children, a durable sleep that outlives its
worker, waits for events pushed before and after, a skipped sleep, and a durable step
that is not deterministic."""

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


def children_of(server: LiveServer, run_id: str) -> list[dict]:
    with server.api() as api:
        return list(api.get("/runs", params={"parent_run": run_id, "limit": 500}).json()["results"])


def test_a_step_spawns_a_hundred_children_and_joins_them(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("fan-out", slots=10)
    run = hatchet_server.client().admin.run_workflow("Parent", {"n": 100})

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=90)

    assert step_run(detail, "fan")["output"] == {"sum": sum(n * n for n in range(100))}
    assert detail["children"]["count"] == 100
    assert detail["children"]["by_status"] == {"SUCCEEDED": 100}
    assert len(detail["children"]["runs"]) == 50
    children = children_of(hatchet_server, run.workflow_run_id)
    assert len(children) == 100
    assert {child["trigger"] for child in children} == {"spawn"}
    child = run_detail(hatchet_server, children[0]["id"])
    assert child["spawned_by"]["run"] == run.workflow_run_id
    assert child["spawned_by"]["step"] == "fan"
    assert child["spawned_by"]["step_run"] == step_run(detail, "fan")["id"]


def test_a_parent_retried_after_spawning_spawns_nothing_twice(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("retried-parent", slots=6)
    run = hatchet_server.client().admin.run_workflow(
        "Parent", {"n": 5, "crash_once": True, "markers": str(markers)}
    )

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=60)

    fan = step_run(detail, "fan")
    assert [a["status"] for a in fan["attempts"]] == ["FAILED", "SUCCEEDED"]
    assert fan["output"] == {"sum": 0 + 1 + 4 + 9 + 16}
    assert detail["children"]["count"] == 5
    assert len(list(markers.glob("child-*"))) == 5


def test_a_childs_failure_reaches_its_durable_async_parent_as_an_error_it_catches(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("durable-parent", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "DurableParent", {"slow": 2, "seconds": 1, "markers": str(markers)}
    )

    # One slot: the children can only run while the parent waits without holding it.
    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=60)

    fan = step_run(detail, "fan")
    assert fan["output"] == {
        "first": 9,
        "caught": "Step 'work' failed: NonRetryableError: child 4 refused",
        "slow": [0, 1],
    }
    waits = detail["step_waits"][fan["id"]]
    assert [w["kind"] for w in waits] == ["children", "children", "children"]
    assert waits[1]["result"]["runs"][waits[1]["spec"]["runs"][0]]["status"] == "FAILED"
    assert {a["status"] for a in fan["attempts"][:-1]} == {"WAITING"}
    assert fan["attempts"][-1]["status"] == "SUCCEEDED"
    assert detail["children"]["by_status"] == {"FAILED": 1, "SUCCEEDED": 3}
    # Replays spawned nothing again: three children ran, once each.
    assert len(list(markers.glob("child-*"))) == 3

    # A replay of the run is a new run that spawns and waits afresh; the original keeps
    # its children, the failed one too, and its waits.
    replay = hatchet_server.client().request(
        "POST", f"/api/v1/runs/{run.workflow_run_id}/replay", {}
    )
    replayed = wait_for_status(hatchet_server, replay["id"], "SUCCEEDED", timeout=60)
    assert step_run(replayed, "fan")["output"] == fan["output"]
    assert replayed["children"]["by_status"] == {"FAILED": 1, "SUCCEEDED": 3}
    assert not {c["id"] for c in replayed["children"]["runs"]} & {
        c["id"] for c in detail["children"]["runs"]
    }
    again = run_detail(hatchet_server, run.workflow_run_id)
    assert again["children"] == detail["children"]
    assert again["step_waits"] == detail["step_waits"]


def test_cancelling_a_parent_cancels_its_children(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("cancel-cascade", slots=6)
    client = hatchet_server.client()
    run = client.admin.run_workflow(
        "Parent", {"n": 3, "child": {"seconds": 60}, "markers": str(markers)}
    )
    wait_for(lambda: len(list(markers.glob("child-*"))) == 3, timeout=30)

    client.request("POST", f"/api/v1/runs/{run.workflow_run_id}/cancel")

    children = wait_for(
        lambda: (
            (found := children_of(hatchet_server, run.workflow_run_id))
            and all(child["status"] == "CANCELLED" for child in found)
            and found
        ),
        timeout=15,
    )
    assert len(children) == 3
    wait_for(lambda: len(list(markers.glob("child-stopped-*"))) == 3, timeout=15)
    assert run_detail(hatchet_server, run.workflow_run_id)["status"] == "CANCELLED"


def test_a_durable_sleep_outlives_its_worker(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    first = start_worker("sleeper-a", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "DurableSleeper", {"seconds": 10, "markers": str(markers)}
    )
    wait_for(
        lambda: (
            step_run(run_detail(hatchet_server, run.workflow_run_id), "nap")["status"] == "WAITING"
        ),
        timeout=20,
    )
    slept_at = time.monotonic()
    first.send_signal(signal.SIGKILL)
    first.wait()
    start_worker("sleeper-b", slots=1)

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=60)

    assert time.monotonic() - slept_at >= 8
    nap = step_run(detail, "nap")
    assert [(a["worker_name"], a["status"]) for a in nap["attempts"]] == [
        ("sleeper-a", "WAITING"),
        ("sleeper-b", "SUCCEEDED"),
    ]
    assert len(list(markers.glob("before-sleep-*"))) == 2
    assert len(list(markers.glob("after-sleep-*"))) == 1
    [wait] = detail["step_waits"][nap["id"]]
    assert wait["kind"] == "sleep"
    assert wait["spec"] == {"seconds": 10.0}


def test_a_step_killed_after_its_sleep_does_not_sleep_again(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    first = start_worker("sleeper-c", slots=1)
    run = hatchet_server.client().admin.run_workflow(
        "DurableSleeper", {"seconds": 1, "work_seconds": 3, "markers": str(markers)}
    )
    wait_for(lambda: list(markers.glob("after-sleep-*")), timeout=20)
    first.send_signal(signal.SIGKILL)
    first.wait()
    start_worker("sleeper-d", slots=1)

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=60)

    nap = step_run(detail, "nap")
    assert [a["status"] for a in nap["attempts"]][-1] == "SUCCEEDED"
    assert len(detail["step_waits"][nap["id"]]) == 1
    # The replay on the second worker went past the sleep at once.
    assert len(list(markers.glob("after-sleep-*"))) == 2


def test_an_operator_skips_a_sleep(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("sleeper-e", slots=1)
    client = hatchet_server.client()
    run = client.admin.run_workflow("DurableSleeper", {"seconds": 3600, "markers": str(markers)})
    nap = wait_for(
        lambda: (
            (s := step_run(run_detail(hatchet_server, run.workflow_run_id), "nap"))["status"]
            == "WAITING"
            and s
        ),
        timeout=20,
    )

    skipped = client.request("POST", f"/api/v1/step-runs/{nap['id']}/skip-wait")

    assert skipped["result"] == {"slept": 3600.0, "skipped": True}
    wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED", timeout=20)


def test_a_durable_step_waits_for_events_pushed_before_and_after_it_began(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("approver", slots=1)
    client = hatchet_server.client()
    client.event.push("e2e:approval", {"ticket": 1, "by": "early"})
    early = client.admin.run_workflow("Approval", {"ticket": 1, "lookback": "5m"})
    late = client.admin.run_workflow("Approval", {"ticket": 2})
    timed_out = client.admin.run_workflow("Approval", {"ticket": 3, "timeout": "2s"})

    detail = wait_for_status(hatchet_server, early.workflow_run_id, "SUCCEEDED", timeout=30)
    assert step_run(detail, "decide")["output"] == {"approved_by": "early"}

    wait_for(
        lambda: (
            step_run(run_detail(hatchet_server, late.workflow_run_id), "decide")["status"]
            == "WAITING"
        ),
        timeout=20,
    )
    client.event.push("e2e:approval", {"ticket": 99, "by": "someone else"})
    client.event.push("e2e:approval", {"ticket": 2, "by": "late"})
    detail = wait_for_status(hatchet_server, late.workflow_run_id, "SUCCEEDED", timeout=30)
    assert step_run(detail, "decide")["output"] == {"approved_by": "late"}

    detail = wait_for_status(hatchet_server, timed_out.workflow_run_id, "SUCCEEDED", timeout=30)
    assert step_run(detail, "decide")["output"] == {"approved_by": None}


def test_a_durable_step_that_is_not_deterministic_fails_saying_so(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("fickle", slots=1)
    run = hatchet_server.client().admin.run_workflow("Fickle", {"markers": str(markers)})

    detail = wait_for_status(hatchet_server, run.workflow_run_id, "FAILED", timeout=30)

    error = step_run(detail, "nap")["error"]
    assert error.startswith("NonDeterministicError: durable step 'nap' is not deterministic")
    assert "wait #1" in error
