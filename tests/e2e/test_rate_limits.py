"""Rate limits with live workers: a named limit holds exactly over its window while
several server processes assign its steps, and a dynamic limit counts each user apart.
Times are the attempts' assignment times, when the units were taken."""

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.live import LiveServer, WorkerFactory, step_run, wait_for_status


def assignments(server: LiveServer, run_ids: list[str]) -> list[dict[str, Any]]:
    """The one attempt of each run's step, once every run succeeded, oldest first."""
    attempts = []
    for run_id in run_ids:
        detail = wait_for_status(server, run_id, "SUCCEEDED", timeout=120)
        [attempt] = step_run(detail, "work")["attempts"]
        attempts.append(attempt)
    return sorted(attempts, key=lambda a: a["assigned_at"])


def assigned_times(attempts: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(a["assigned_at"]) for a in attempts]


def most_in_a_window(times: list[datetime], window: timedelta) -> int:
    """The most assignments in any window of that length, (t - window, t]."""
    return max(sum(1 for other in times if time - window < other <= time) for time in times)


def test_a_limit_holds_exactly_over_a_minute_with_two_server_processes(
    hatchet_server: LiveServer, second_server: str, start_worker: WorkerFactory
) -> None:
    start_worker("calls-here", slots=5)
    start_worker("calls-there", slots=5, HATCHET_SERVER_URL=second_server)
    client = hatchet_server.client()
    client.rate_limits.put("e2e-calls", limit=10, period="minute")

    runs = client.admin.run_workflows("RateLimited", [{"input": {}}] * 20)
    attempts = assignments(hatchet_server, [r.workflow_run_id for r in runs])

    times = assigned_times(attempts)
    assert most_in_a_window(times, timedelta(minutes=1)) == 10
    # Held, not starved: the second ten went as the first ten's units left the window.
    assert timedelta(minutes=1) <= times[10] - times[0] < timedelta(seconds=63)
    assert {a["worker_name"] for a in attempts} == {"calls-here", "calls-there"}
    [limit] = [r for r in client.rate_limits.list() if r["key"] == "e2e-calls"]
    assert limit["used"] == 10


def test_a_second_window_and_a_dynamic_limit_per_user(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("calls-fast", slots=8)
    client = hatchet_server.client()
    client.rate_limits.put("e2e-calls", limit=3, period="second")

    limited = client.admin.run_workflows("RateLimited", [{"input": {}}] * 9)
    ann = client.admin.run_workflows("PerUserLimited", [{"input": {"user": "ann"}}] * 6)
    bob = client.admin.run_workflows("PerUserLimited", [{"input": {"user": "bob"}}] * 2)

    limited_times = assigned_times(
        assignments(hatchet_server, [r.workflow_run_id for r in limited])
    )
    assert most_in_a_window(limited_times, timedelta(seconds=1)) == 3
    assert limited_times[-1] - limited_times[0] >= timedelta(seconds=2)
    ann_times = assigned_times(assignments(hatchet_server, [r.workflow_run_id for r in ann]))
    bob_times = assigned_times(assignments(hatchet_server, [r.workflow_run_id for r in bob]))
    assert most_in_a_window(ann_times, timedelta(seconds=1)) == 2
    assert ann_times[-1] - ann_times[0] >= timedelta(seconds=2)
    # Bob's limit is his own: Ann's queue did not hold him back.
    assert bob_times[-1] - bob_times[0] < timedelta(seconds=1)
