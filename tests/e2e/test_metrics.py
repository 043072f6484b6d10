"""A live server's /metrics after real workers ran real steps, as Prometheus scrapes it."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.livestack import LIVE_STACK_KEYS
from tests.e2e.live import LiveServer, WorkerFactory, wait_for_status


def scrape(url: str) -> dict[str, float]:
    """The samples summed over their labels, by name."""
    token = LIVE_STACK_KEYS["HATCHET_METRICS_TOKEN"]
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def test_a_scrape_counts_what_the_workers_ran(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("metrics-worker", slots=4)
    before = scrape(hatchet_server.url)
    run = hatchet_server.client().admin.run_workflow("FanOut", {"n": 3})
    run.result(timeout=30)
    wait_for_status(hatchet_server, run.workflow_run_id, "SUCCEEDED")

    after = scrape(hatchet_server.url)

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew("hatchet_trigger_to_start_seconds_count") == 1
    assert grew("hatchet_step_runs_finished_total") == 4
    assert grew("hatchet_step_run_duration_seconds_count") == 4
    assert grew("hatchet_workflow_runs_finished_total") == 1
    assert grew("hatchet_report_batch_size_count") >= 1
    assert after["hatchet_workers"] >= 1
    assert after["hatchet_worker_slots"] >= 4
    assert after["hatchet_tick_lag_seconds"] < 5
    assert "hatchet_tick_pass_seconds_count" in after
