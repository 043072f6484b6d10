"""/api/v1/rate-limits: put (create or change), list with the units taken in each
window, filter, read, delete; bad bodies refused with the field at fault."""

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.runs import trigger_workflow_run

pytestmark = pytest.mark.django_db


def put(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/rate-limits", body, format="json")


def test_a_put_creates_then_changes_the_limit_of_its_key(api: APIClient) -> None:
    created = put(api, key="llm", limit=60, period="minute")
    changed = put(api, key="llm", limit=10, period="second")

    assert created.status_code == 201
    assert changed.status_code == 200
    assert changed.json()["id"] == created.json()["id"]
    assert {k: changed.json()[k] for k in ("key", "limit", "period", "dynamic", "used")} == {
        "key": "llm",
        "limit": 10,
        "period": "second",
        "dynamic": False,
        "used": 0,
    }


def test_the_list_shows_the_units_each_limit_took_in_its_window(
    api: APIClient, tenant: Tenant
) -> None:
    put(api, key="llm", limit=60, period="minute")
    put(api, key="idle", limit=5, period="hour")
    step = {"name": "work", "rate_limits": [{"key": "llm", "units": 2}]}
    register_workflow(tenant, definition("Limited", [step]))
    for _ in range(3):
        trigger_workflow_run(tenant, "Limited", {})
    claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=uuid.uuid4(),
        worker_name="w",
        actions=["Limited:work"],
        slots=3,
    )

    listed = api.get("/api/v1/rate-limits").json()["results"]
    assert [(r["key"], r["limit"], r["period"], r["used"]) for r in listed] == [
        ("idle", 5, "hour", 0),
        ("llm", 60, "minute", 6),
    ]
    [llm] = api.get("/api/v1/rate-limits", {"key": "llm"}).json()["results"]
    assert api.get(f"/api/v1/rate-limits/{llm['id']}").json()["used"] == 6


def test_a_deleted_limit_is_gone(api: APIClient) -> None:
    rate_limit = put(api, key="llm", limit=1, period="day").json()

    assert api.delete(f"/api/v1/rate-limits/{rate_limit['id']}").status_code == 204
    assert api.get(f"/api/v1/rate-limits/{rate_limit['id']}").status_code == 404
    assert api.delete(f"/api/v1/rate-limits/{rate_limit['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "llm", "limit": 0, "period": "minute"}, "limit"),
        ({"key": "llm", "limit": 1, "period": "week"}, "period"),
        ({"key": "", "limit": 1, "period": "minute"}, "key"),
        ({"key": "k" * 256, "limit": 1, "period": "minute"}, "key"),
        ({"limit": 1, "period": "minute"}, "key"),
        ({"key": "llm", "limit": "many", "period": "minute"}, "limit"),
        ({"key": "llm", "limit": 1, "period": "minute", "burst": 3}, "non_field_errors"),
    ],
)
def test_a_bad_limit_is_refused_with_the_field_at_fault(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    refused = put(api, **body)

    assert refused.status_code == 400
    assert field in refused.json()["error"]["details"]
    assert api.get("/api/v1/rate-limits").json()["results"] == []


def test_a_key_is_kept_as_it_is_written(api: APIClient) -> None:
    """The schema allows any non-empty key (schemathesis sent a blank one to the filter,
    which trimmed it away and refused it)."""
    assert put(api, key=" ", limit=1, period="minute").status_code == 201

    [blank] = api.get("/api/v1/rate-limits", {"key": " "}).json()["results"]
    assert blank["key"] == " "
