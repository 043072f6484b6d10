"""/api/v1/crons: create, list with next fire times, detail with runs, pause, resume, delete."""

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import register
from workflows.engine.crons import fire_due_crons
from workflows.models import CronTrigger

pytestmark = pytest.mark.django_db


def test_create_list_and_detail_show_next_fire_time_and_runs(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, "Report", on_crons=["@daily"])

    created = api.post(
        "/api/v1/crons",
        {
            "workflow": "Report",
            "expression": "0 9 * * 1",
            "name": "monday",
            "timezone": "Europe/Paris",
            "input": {"kind": "weekly"},
        },
        format="json",
    )

    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("workflow", "name", "expression", "timezone", "source")} == {
        "workflow": "Report",
        "name": "monday",
        "expression": "0 9 * * 1",
        "timezone": "Europe/Paris",
        "source": "api",
    }
    cron = CronTrigger.objects.get(pk=body["id"])
    assert body["next_fire_at"] == cron.next_fire_at.isoformat().replace("+00:00", "Z")
    listed = api.get("/api/v1/crons", {"workflow": "Report"}).json()["results"]
    assert [(c["expression"], c["source"]) for c in listed] == [
        ("@daily", "declared"),
        ("0 9 * * 1", "api"),
    ]

    fire_due_crons(cron.next_fire_at)
    detail = api.get(f"/api/v1/crons/{cron.pk}").json()
    assert [r["workflow"] for r in detail["recent_runs"]] == ["Report"]
    assert detail["last_fired_at"] is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"expression": "bad"}, "Invalid cron expression 'bad'."),
        ({"expression": "* * * * *", "timezone": "Nowhere/City"}, "Unknown time zone"),
        ({"expression": "* * * * *", "colour": "red"}, "Unknown field(s): colour."),
    ],
)
def test_bad_crons_answer_400_and_store_nothing(
    api: APIClient, tenant: Tenant, body: dict, message: str
) -> None:
    register(tenant, "Report")

    response = api.post("/api/v1/crons", {"workflow": "Report", **body}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)
    assert not CronTrigger.objects.exists()


def test_pause_resume_and_delete(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Report", on_crons=["@daily"])
    cron = api.post(
        "/api/v1/crons", {"workflow": "Report", "expression": "@hourly"}, format="json"
    ).json()
    declared = CronTrigger.objects.get(source="declared")

    paused = api.post(f"/api/v1/crons/{cron['id']}/pause").json()
    resumed = api.post(f"/api/v1/crons/{cron['id']}/resume").json()
    refused = api.delete(f"/api/v1/crons/{declared.pk}")
    deleted = api.delete(f"/api/v1/crons/{cron['id']}")

    assert (paused["is_paused"], paused["next_fire_at"]) == (True, None)
    assert (resumed["is_paused"], resumed["next_fire_at"] is not None) == (False, True)
    assert refused.status_code == 409
    assert deleted.status_code == 204
    assert list(CronTrigger.objects.all()) == [declared]


def test_other_tenants_crons_are_invisible(
    api: APIClient, other_api: APIClient, tenant: Tenant
) -> None:
    register(tenant, "Report")
    cron = api.post(
        "/api/v1/crons", {"workflow": "Report", "expression": "@hourly"}, format="json"
    ).json()

    assert other_api.get("/api/v1/crons").json()["count"] == 0
    assert other_api.post(f"/api/v1/crons/{cron['id']}/pause").status_code == 404
    assert other_api.delete(f"/api/v1/crons/{cron['id']}").status_code == 404
    assert (
        other_api.post(
            "/api/v1/crons", {"workflow": "Report", "expression": "@hourly"}, format="json"
        ).status_code
        == 404
    )
