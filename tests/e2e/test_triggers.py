"""Triggers end to end: events, crons and one-off schedules start runs on a live worker.

On the embedded backend the server's in-process ticker fires crons and schedules; on
PostgreSQL + Redis the server's ticker is off and a real Celery worker and Celery
beat do it over Redis, as in production.
"""

import signal
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from hatchet.sdk import Hatchet
from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    start_celery,
    stop_process,
    wait_for,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ticker(hatchet_server: LiveServer) -> Iterator[str]:
    """Who fires crons and schedules for this module's tests."""
    if hatchet_server.backend == "embedded":
        yield "in-process ticker"
        return
    hatchet_server.stop()
    hatchet_server.env["HATCHET_IN_PROCESS_TICKER"] = "0"
    hatchet_server.start()
    beat_dir = Path(tempfile.mkdtemp(prefix="hatchet-beat-"))
    celery = [
        start_celery(hatchet_server, "worker", "--pool", "solo", "--without-mingle"),
        start_celery(
            hatchet_server,
            "beat",
            "--schedule",
            str(beat_dir / "schedule"),
            "--pidfile",
            str(beat_dir / "beat.pid"),
        ),
    ]
    yield "celery"
    for process in celery:
        assert process.poll() is None, f"celery exited:\n{hatchet_server.tail_log()}"
        stop_process(process)
    hatchet_server.stop()
    hatchet_server.env["HATCHET_IN_PROCESS_TICKER"] = "1"
    hatchet_server.start()


def get(server: LiveServer, path: str, **params: Any) -> Any:
    with server.api() as api:
        response = api.get(path, params=params)
        response.raise_for_status()
        return response.json()


def outputs_of(server: LiveServer, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """{workflow: its echo step's output}, once every run succeeded."""
    finished = [wait_for_status(server, run["id"], "SUCCEEDED") for run in runs]
    return {run["workflow"]: run["step_runs"][0]["output"] for run in finished}


def runs_of(server: LiveServer, workflow: str, trigger: str) -> list[dict[str, Any]]:
    runs = get(server, "/runs", workflow=workflow, limit=500)["results"]
    return [run for run in runs if run["trigger"] == trigger]


@pytest.mark.usefixtures("ticker")
def test_an_event_starts_the_matching_workflows_only_with_its_payload_as_input(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("event-worker")
    hatchet = hatchet_server.client()

    placed = hatchet.event.push("e2e:order:placed", {"order": 7}, {"source": "e2e"})
    [cancelled, signed_up] = hatchet.event.push_many(
        [
            {"key": "e2e:order:cancelled", "payload": {"order": 8}},
            {"key": "e2e:user:created", "payload": {"user": "ann"}},
        ]
    )["events"]

    assert outputs_of(hatchet_server, placed["runs"]) == {
        "OrderPlaced": {"input": {"order": 7}, "metadata": {"source": "e2e"}},
        "AnyOrder": {"input": {"order": 7}, "metadata": {"source": "e2e"}},
    }
    # The wildcard pattern e2e:order:* matches a key nobody else listens for.
    assert outputs_of(hatchet_server, cancelled["runs"]) == {
        "AnyOrder": {"input": {"order": 8}, "metadata": {}}
    }
    assert outputs_of(hatchet_server, signed_up["runs"]) == {
        "UserCreated": {"input": {"user": "ann"}, "metadata": {}}
    }
    detail = get(hatchet_server, f"/events/{placed['id']}")
    assert sorted(run["workflow"] for run in detail["runs"]) == ["AnyOrder", "OrderPlaced"]
    assert get(hatchet_server, "/events", key="e2e:order:*")["count"] == 2


@pytest.mark.usefixtures("ticker")
def test_a_cron_firing_every_second_starts_runs(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("cron-worker")
    hatchet = hatchet_server.client()
    [declared] = hatchet.cron.list("Ticked")
    assert (declared["source"], declared["expression"]) == ("declared", "0 0 1 1 *")
    assert declared["next_fire_at"].endswith("-01-01T00:00:00Z")

    recent = runs_of_a_cron_every_second(hatchet, "every-second", 3)

    outputs = outputs_of(hatchet_server, recent[-3:])
    assert outputs == {"Ticked": {"input": {"from": "cron"}, "metadata": {}}}
    times = sorted(datetime.fromisoformat(run["created_at"]) for run in recent)
    # One run per second: never two for the same tick.
    assert all(b - a > timedelta(seconds=0.2) for a, b in pairwise(times))


@pytest.mark.usefixtures("ticker")
def test_a_paused_workflow_holds_its_runs_and_a_cron_fires_into_the_wait_until_resumed(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("paused-worker", slots=1)
    hatchet = hatchet_server.client()
    assert hatchet.admin.pause_workflow("Ticked")["is_paused"] is True
    try:
        first = hatchet.admin.run_workflow("Ticked", {"from": "api"})
        fired = runs_of_a_cron_every_second(hatchet, "while-paused", 2)
        last = hatchet.admin.run_workflow("Ticked", {"from": "api, later"})
        held = [first.workflow_run_id, *sorted_by_creation(fired), last.workflow_run_id]
        time.sleep(1)
        for run_id in held:
            run = get(hatchet_server, f"/runs/{run_id}")
            assert (run["status"], run["waiting_for"]) == ("PENDING", "resume")
            assert {s["status"] for s in run["step_runs"]} == {"PENDING"}
    finally:
        assert hatchet.admin.resume_workflow("Ticked")["is_paused"] is False

    finished = [wait_for_status(hatchet_server, run_id, "SUCCEEDED") for run_id in held]
    started = [run["step_runs"][0]["started_at"] for run in finished]
    assert started == sorted(started), "released out of the order the runs came in"


def runs_of_a_cron_every_second(hatchet: Hatchet, name: str, count: int) -> list[dict[str, Any]]:
    """The recent runs of a cron of Ticked firing every second, once it fired `count`
    times; then it is deleted."""
    cron = hatchet.cron.create("Ticked", "* * * * * *", {"from": "cron"}, name=name)
    try:
        return list(
            wait_for(
                lambda: len(runs := hatchet.cron.get(cron["id"])["recent_runs"]) >= count and runs,
                timeout=20,
            )
        )
    finally:
        hatchet.cron.delete(cron["id"])


def sorted_by_creation(runs: list[dict[str, Any]]) -> list[str]:
    return [run["id"] for run in sorted(runs, key=lambda run: run["created_at"])]


@pytest.mark.usefixtures("ticker")
def test_a_one_off_schedule_fires_once_at_its_time(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("schedule-worker")
    at = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = hatchet_server.client().admin.schedule_workflow(
        "Ticked", at=at, input={"from": "schedule"}
    )
    assert scheduled["status"] == "SCHEDULED"

    fired = wait_for(
        lambda: (
            (s := get(hatchet_server, f"/schedules/{scheduled['id']}"))["status"] == "FIRED" and s
        ),
        timeout=15,
    )
    fired_at = datetime.fromisoformat(fired["fired_at"])
    assert at <= fired_at < at + timedelta(seconds=1)
    run = wait_for_status(hatchet_server, fired["run_id"], "SUCCEEDED")
    assert run["step_runs"][0]["output"]["input"] == {"from": "schedule"}
    time.sleep(1)
    assert [r["id"] for r in runs_of(hatchet_server, "Ticked", "schedule")] == [run["id"]]


@pytest.mark.usefixtures("ticker")
def test_a_server_restart_between_push_and_run_start_loses_nothing(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    hatchet = hatchet_server.client()
    event = hatchet.event.push("e2e:user:created", {"user": "bob"})
    [run] = event["runs"]

    hatchet_server.stop(signal.SIGKILL)
    hatchet_server.start()
    start_worker("after-restart-worker")

    assert outputs_of(hatchet_server, [run]) == {
        "UserCreated": {"input": {"user": "bob"}, "metadata": {}}
    }
    detail = get(hatchet_server, f"/events/{event['id']}")
    assert [r["id"] for r in detail["runs"]] == [run["id"]]
