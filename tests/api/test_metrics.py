"""GET /metrics: Prometheus's text, behind the metrics token, with the engine's, the
workers' and Celery's figures."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hatchet.models import Tenant
from tests.factories import register, start_run
from workers.models import Worker
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.results import record_step_failed, record_step_started
from workflows.models import ScheduledRun
from workflows.tasks import engine_tick, fire_triggers_task

TOKEN = "scrape-me-0123456789"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.HATCHET_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample as {(name, labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_off_until_a_token_is_set(client: Client, settings: Any) -> None:
    settings.HATCHET_METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_configured"
    assert "HATCHET_METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"])
@pytest.mark.usefixtures("metrics_token")
def test_metrics_refuse_a_missing_or_wrong_token(client: Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)  # type: ignore[arg-type]

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.usefixtures("metrics_token")
def test_metrics_count_the_queue_the_steps_and_the_workers(client: Client, tenant: Tenant) -> None:
    register(tenant)
    before = scrape(client)
    start_run(tenant)
    start_run(tenant)

    queued = scrape(client)
    assert value(queued, "hatchet_queue_depth", tenant="acme", action="Chain:a") == 2
    assert value(queued, "hatchet_step_runs", tenant="acme", status="QUEUED") == 2
    assert value(queued, "hatchet_workflow_runs", tenant="acme", status="PENDING") == 2
    assert value(queued, "hatchet_queue_oldest_seconds", tenant="acme", action="Chain:a") >= 0

    worker = Worker.objects.create(
        tenant=tenant, name="box", actions=["Chain:a"], slots=3, status="ACTIVE"
    )
    first, second = claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=worker.id, worker_name="box", actions=["Chain:a"], slots=3
    )
    record_step_started(tenant.id, first.step_run_id, first.attempt, worker.id)
    record_step_started(tenant.id, second.step_run_id, second.attempt, worker.id)
    record_step_failed(tenant.id, second.step_run_id, second.attempt, worker.id, "boom", "")

    after = scrape(client)
    assert value(after, "hatchet_queue_depth", tenant="acme", action="Chain:a") == 0
    assert value(after, "hatchet_step_runs", tenant="acme", status="RUNNING") == 1
    assert value(after, "hatchet_workflow_runs", tenant="acme", status="RUNNING") == 1
    assert value(after, "hatchet_workers", tenant="acme", status="ACTIVE") == 1
    assert value(after, "hatchet_worker_slots", tenant="acme", state="used") == 1
    assert value(after, "hatchet_worker_slots", tenant="acme", state="free") == 2

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Both runs started; the one whose step failed (no retries) ended FAILED.
    assert grew("hatchet_trigger_to_start_seconds_count") == 2
    assert grew("hatchet_step_runs_finished_total", status="FAILED") == 1
    assert grew("hatchet_step_run_duration_seconds_count", status="FAILED") == 1
    assert grew("hatchet_workflow_runs_finished_total", status="FAILED") == 1


@pytest.mark.usefixtures("metrics_token")
def test_metrics_show_how_far_behind_the_tick_is(client: Client, tenant: Tenant) -> None:
    version = register(tenant)
    assert value(scrape(client), "hatchet_tick_lag_seconds") == 0
    ScheduledRun.objects.create(
        tenant=tenant,
        workflow=version.workflow,
        input={},
        trigger_at=timezone.now() - timedelta(seconds=90),
    )

    assert value(scrape(client), "hatchet_tick_lag_seconds") >= 90

    fire_triggers_task.apply()

    after = scrape(client)
    assert value(after, "hatchet_tick_lag_seconds") == 0
    fired = {"task": "hatchet.fire_triggers", "outcome": "success"}
    assert value(after, "hatchet_celery_tasks_total", **fired) == 1


@pytest.mark.usefixtures("metrics_token")
def test_metrics_count_failed_celery_tasks(client: Client) -> None:
    for _ in range(2):
        # As a Celery worker runs it: the error is the task's outcome, not raised here.
        result = engine_tick.apply(args=("unexpected",), throw=False)
        assert isinstance(result.result, TypeError)

    samples = scrape(client)
    assert (
        value(samples, "hatchet_celery_tasks_total", task="hatchet.engine_tick", outcome="failure")
        == 2
    )
