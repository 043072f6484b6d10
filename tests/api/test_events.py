"""POST/GET /api/v1/events, event detail and replay."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import register
from workflows.models import Event, WorkflowRun

pytestmark = pytest.mark.django_db

ONE_STEP = [{"name": "only"}]


def test_push_one_event_answers_it_with_the_runs_it_started(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Welcome", steps=ONE_STEP, on_events=["user:*"])

    response = api.post(
        "/api/v1/events",
        {"key": "user:created", "payload": {"id": 1}, "additional_metadata": {"src": "web"}},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    run = WorkflowRun.objects.get()
    assert body["key"] == "user:created"
    assert (body["payload"], body["additional_metadata"]) == ({"id": 1}, {"src": "web"})
    assert body["runs"] == [
        {
            "id": str(run.id),
            "workflow": "Welcome",
            "status": "PENDING",
            "created_at": body["runs"][0]["created_at"],
        }
    ]
    detail = api.get(f"/api/v1/events/{body['id']}").json()
    assert [r["id"] for r in detail["runs"]] == [str(run.id)]


def test_push_a_batch_all_or_nothing(api: APIClient) -> None:
    ok = api.post("/api/v1/events", {"events": [{"key": "a"}, {"key": "b"}]}, format="json")
    bad = api.post("/api/v1/events", {"events": [{"key": "c"}, {"key": ""}]}, format="json")

    assert ok.status_code == 201
    assert [e["key"] for e in ok.json()["events"]] == ["a", "b"]
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": "invalid_request",
        "message": "events[1]: key must be a non-empty string.",
        "details": {"key": ""},
    }
    assert sorted(Event.objects.values_list("key", flat=True)) == ["a", "b"]


@override_settings(HATCHET_MAX_EVENTS_PER_BATCH=2)
def test_a_batch_over_its_limit_and_an_oversized_payload_are_refused(api: APIClient) -> None:
    too_many = api.post("/api/v1/events", {"events": [{"key": "a"}] * 3}, format="json")
    with override_settings(HATCHET_MAX_MESSAGE_BYTES=50):
        too_big = api.post(
            "/api/v1/events", {"key": "a", "payload": {"t": "x" * 60}}, format="json"
        )
    empty = api.post("/api/v1/events", {}, format="json")

    assert too_many.status_code == 400
    assert too_many.json()["error"]["details"] == {"count": 3, "limit": 2}
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    assert empty.status_code == 400
    assert not Event.objects.exists()


def test_list_filters_by_key_pattern_prefix_time_and_metadata(api: APIClient) -> None:
    for key, metadata in [
        ("user:created", {"env": "prod", "a__b": "x"}),
        ("user:deleted", {"env": "dev"}),
        ("user:a:b", {"env": "prod"}),
        ("order:created", {"env": "prod"}),
    ]:
        api.post("/api/v1/events", {"key": key, "additional_metadata": metadata}, format="json")
    Event.objects.filter(key="order:created").update(created_at=timezone.now() - timedelta(days=1))

    def keys(**params: str) -> list[str]:
        return sorted(e["key"] for e in api.get("/api/v1/events", params).json()["results"])

    assert keys(key="user:created") == ["user:created"]
    assert keys(key="user:*") == ["user:created", "user:deleted"]
    assert keys(key_prefix="user:") == ["user:a:b", "user:created", "user:deleted"]
    assert keys(metadata="env:prod") == ["order:created", "user:a:b", "user:created"]
    assert keys(**{"metadata[env]": "dev"}) == ["user:deleted"]
    assert keys(metadata="a__b:x") == ["user:created"]
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert keys(created_after=since, key_prefix="order") == []
    assert keys(created_before=since) == ["order:created"]
    page = api.get("/api/v1/events", {"limit": 2}).json()
    assert (page["count"], len(page["results"])) == (4, 2)


def test_replay_starts_the_runs_again(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Welcome", steps=ONE_STEP, on_events=["user:created"])
    event = api.post("/api/v1/events", {"key": "user:created"}, format="json").json()

    response = api.post(f"/api/v1/events/{event['id']}/replay")

    assert response.status_code == 201
    assert [r["workflow"] for r in response.json()] == ["Welcome"]
    assert WorkflowRun.objects.filter(event_id=event["id"]).count() == 2


def test_other_tenants_events_are_invisible(api: APIClient, other_api: APIClient) -> None:
    event = api.post("/api/v1/events", {"key": "user:created"}, format="json").json()

    assert other_api.get(f"/api/v1/events/{event['id']}").status_code == 404
    assert other_api.post(f"/api/v1/events/{event['id']}/replay").status_code == 404
    assert other_api.get("/api/v1/events").json()["count"] == 0
