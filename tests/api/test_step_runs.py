"""GET /api/v1/step-runs/{id}/logs and /stream."""

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import ScriptedWorker, register, start_run
from workflows.engine.results import append_step_run_line
from workflows.models import StepRun

pytestmark = pytest.mark.django_db


def step_run_with_two_attempts(tenant: Tenant) -> StepRun:
    """Attempt 1 logged twice and streamed "Hel" + "lo"; attempt 2 logged and streamed once."""
    register(tenant, steps=[{"name": "a", "retries": 1}])
    start_run(tenant)
    worker = ScriptedWorker(tenant)
    step_run = worker.fail("Chain:a", "boom")
    for seq, text in enumerate(["starting", "calling the model"]):
        append_step_run_line(tenant.id, step_run.id, 1, "log", seq, text, level="INFO")
    for seq, text in enumerate(["Hel", "lo"]):
        append_step_run_line(tenant.id, step_run.id, 1, "stream", seq, text)
    StepRun.objects.filter(pk=step_run.pk).update(available_at=step_run.created_at)
    worker.start("Chain:a")
    append_step_run_line(tenant.id, step_run.id, 2, "log", 0, "again", level="WARNING")
    append_step_run_line(tenant.id, step_run.id, 2, "stream", 0, "Bye")
    return step_run


def test_logs_list_every_attempts_lines_in_order(api: APIClient, tenant: Tenant) -> None:
    step_run = step_run_with_two_attempts(tenant)

    response = api.get(f"/api/v1/step-runs/{step_run.id}/logs")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(x["attempt"], x["seq"], x["level"], x["text"]) for x in body["results"]] == [
        (1, 0, "INFO", "starting"),
        (1, 1, "INFO", "calling the model"),
        (2, 0, "WARNING", "again"),
    ]
    assert set(body["results"][0]) == {"attempt", "seq", "level", "text", "created_at"}


def test_logs_of_one_attempt_paginated(api: APIClient, tenant: Tenant) -> None:
    step_run = step_run_with_two_attempts(tenant)

    body = api.get(f"/api/v1/step-runs/{step_run.id}/logs?attempt=1&limit=1&offset=1").json()

    assert body["count"] == 2
    assert [x["text"] for x in body["results"]] == ["calling the model"]
    assert body["next"] is None


def test_a_bad_attempt_is_400(api: APIClient, tenant: Tenant) -> None:
    step_run = step_run_with_two_attempts(tenant)

    response = api.get(f"/api/v1/step-runs/{step_run.id}/logs?attempt=zero")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "attempt: A valid integer is required."


def test_the_stream_joins_the_latest_attempts_chunks(api: APIClient, tenant: Tenant) -> None:
    step_run = step_run_with_two_attempts(tenant)

    body = api.get(f"/api/v1/step-runs/{step_run.id}/stream").json()

    assert [(x["attempt"], x["text"]) for x in body["results"]] == [
        (1, "Hel"),
        (1, "lo"),
        (2, "Bye"),
    ]
    assert body["text"] == "Bye"


def test_the_stream_of_an_earlier_attempt(api: APIClient, tenant: Tenant) -> None:
    step_run = step_run_with_two_attempts(tenant)

    body = api.get(f"/api/v1/step-runs/{step_run.id}/stream?attempt=1&limit=1").json()

    assert (body["count"], [x["text"] for x in body["results"]]) == (2, ["Hel"])
    assert body["text"] == "Hello"


def test_another_tenant_cannot_read_the_lines(tenant: Tenant, other_api: APIClient) -> None:
    step_run = step_run_with_two_attempts(tenant)

    for kind in ("logs", "stream"):
        response = other_api.get(f"/api/v1/step-runs/{step_run.id}/{kind}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_malformed_step_run_id_is_404(api: APIClient) -> None:
    response = api.get("/api/v1/step-runs/12345/logs")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
