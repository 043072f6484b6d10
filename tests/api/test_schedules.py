"""/api/v1/schedules: create, list, reschedule, cancel; the run once fired."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import register
from workflows.engine.schedules import fire_due_schedules
from workflows.models import ScheduledRun, WorkflowRun

pytestmark = pytest.mark.django_db


def schedule(api: APIClient, minutes: float, **fields: object) -> dict:
    at = (timezone.now() + timedelta(minutes=minutes)).isoformat()
    response = api.post(
        "/api/v1/schedules", {"workflow": "Report", "trigger_at": at, **fields}, format="json"
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def test_create_fire_and_read_back_the_run(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Report")
    created = schedule(api, 5, input={"week": 3})
    assert (created["status"], created["run_id"], created["input"]) == (
        "SCHEDULED",
        None,
        {"week": 3},
    )

    fire_due_schedules(timezone.now() + timedelta(minutes=6))

    fired = api.get(f"/api/v1/schedules/{created['id']}").json()
    assert fired["status"] == "FIRED"
    assert fired["run_id"] == str(WorkflowRun.objects.get().id)


def test_a_time_in_the_past_is_refused(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Report")
    at = (timezone.now() - timedelta(minutes=1)).isoformat()

    response = api.post(
        "/api/v1/schedules", {"workflow": "Report", "trigger_at": at}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "is in the past" in response.json()["error"]["message"]
    assert not ScheduledRun.objects.exists()


def test_list_reschedule_and_cancel(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Report")
    first, second = schedule(api, 5), schedule(api, 10)
    later = (timezone.now() + timedelta(hours=1)).isoformat()

    moved = api.patch(f"/api/v1/schedules/{first['id']}", {"trigger_at": later}, format="json")
    cancelled = api.post(f"/api/v1/schedules/{second['id']}/cancel")
    again = api.post(f"/api/v1/schedules/{second['id']}/cancel")

    assert moved.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert again.status_code == 409
    listed = api.get("/api/v1/schedules", {"status": "SCHEDULED"}).json()["results"]
    assert [s["id"] for s in listed] == [first["id"]]
    assert ScheduledRun.objects.get(pk=first["id"]).trigger_at.isoformat() == later


def test_other_tenants_schedules_are_invisible(
    api: APIClient, other_api: APIClient, tenant: Tenant
) -> None:
    register(tenant, "Report")
    created = schedule(api, 5)

    assert other_api.get("/api/v1/schedules").json()["count"] == 0
    assert other_api.post(f"/api/v1/schedules/{created['id']}/cancel").status_code == 404
