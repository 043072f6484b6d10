"""A run's input and metadata are JSON objects: every REST entry that takes them refuses
anything else at its serializer, with one error, and the engine is never asked."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import register, start_run
from workflows.models import CronTrigger, ScheduledRun, WorkflowRun

pytestmark = pytest.mark.django_db

NOT_AN_OBJECT = 'Expected a dictionary of items but got type "list".'


def refusal(field: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "invalid_request",
            "message": f"{field}: {NOT_AN_OBJECT}",
            "details": {field: [NOT_AN_OBJECT]},
        }
    }


def entries(run_id: str, field: str) -> list[tuple[str, dict[str, Any]]]:
    bad = {field: [1]}
    taking_metadata: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/workflows/Chain/runs", bad),
        (f"/api/v1/runs/{run_id}/replay", bad),
        ("/api/v1/crons", {"workflow": "Chain", "expression": "* * * * *", **bad}),
        ("/api/v1/schedules", {"workflow": "Chain", "trigger_at": "2099-01-01T00:00:00Z", **bad}),
        ("/api/v1/playground/runs", {"workflow": "Chain", **bad}),
    ]
    if field == "additional_metadata":
        return taking_metadata
    return [*taking_metadata, ("/api/v1/playground/runs/replay", {"source_run": run_id, **bad})]


@pytest.mark.parametrize("field", ["input", "additional_metadata"])
def test_every_entry_refuses_a_non_object(api: APIClient, tenant: Tenant, field: str) -> None:
    register(tenant)
    source = start_run(tenant)

    answers = {
        url: api.post(url, body, format="json") for url, body in entries(str(source.pk), field)
    }

    assert {url: (r.status_code, r.json()) for url, r in answers.items()} == {
        url: (400, refusal(field)) for url in answers
    }
    assert list(WorkflowRun.objects.all()) == [source]
    assert not CronTrigger.objects.exists()
    assert not ScheduledRun.objects.exists()


@pytest.mark.parametrize(
    ("url", "body", "items", "field"),
    [
        ("/api/v1/workflows/Chain/runs/bulk", {}, "runs", "input"),
        ("/api/v1/workflows/Chain/runs/bulk", {}, "runs", "additional_metadata"),
        ("/api/v1/playground/compare", {"workflow": "Chain", "columns": [{}]}, "rows", "input"),
    ],
)
def test_a_batch_refuses_a_non_object_in_any_item(
    api: APIClient, tenant: Tenant, url: str, body: dict[str, Any], items: str, field: str
) -> None:
    register(tenant)

    response = api.post(url, {**body, items: [{field: {}}, {field: [1]}]}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_request",
            "message": f"{items}: 1: {field}: {NOT_AN_OBJECT}",
            "details": {items: {"1": {field: [NOT_AN_OBJECT]}}},
        }
    }
    assert not WorkflowRun.objects.exists()
