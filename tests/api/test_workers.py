"""GET /api/v1/workers and /api/v1/workers/{id}."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import ScriptedWorker, register, start_run
from workers.models import Worker

pytestmark = pytest.mark.django_db

SEEN = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def make_worker(tenant: Tenant, name: str = "box-1", slots: int = 2) -> Worker:
    return Worker.objects.create(
        tenant=tenant,
        name=name,
        actions=["Chain:a", "Chain:b"],
        slots=slots,
        labels={"region": "eu"},
        sdk_version="0.1.0",
        node="node-1",
        connected_at=SEEN,
        last_heartbeat_at=SEEN,
    )


def hold_step_runs(worker: Worker, count: int) -> None:
    register(worker.tenant, steps=[{"name": "a"}])
    fake = ScriptedWorker(worker.tenant, worker.name)
    fake.id = worker.id
    for _ in range(count):
        start_run(worker.tenant)
        fake.start("Chain:a")


def test_the_list_shows_slots_in_use(api: APIClient, tenant: Tenant) -> None:
    worker = make_worker(tenant)
    hold_step_runs(worker, 1)

    response = api.get("/api/v1/workers")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": str(worker.id),
            "name": "box-1",
            "status": "ACTIVE",
            "actions": ["Chain:a", "Chain:b"],
            "labels": {"region": "eu"},
            "slots": 2,
            "used_slots": 1,
            "free_slots": 1,
            "sdk_version": "0.1.0",
            "last_heartbeat_at": "2025-05-01T12:00:00Z",
            "connected_at": "2025-05-01T12:00:00Z",
            "node": "node-1",
        }
    ]


def test_free_slots_never_go_below_zero(api: APIClient, tenant: Tenant) -> None:
    worker = make_worker(tenant, slots=2)
    hold_step_runs(worker, 2)
    Worker.objects.filter(pk=worker.pk).update(slots=1)

    body = api.get(f"/api/v1/workers/{worker.id}").json()

    assert (body["slots"], body["used_slots"], body["free_slots"]) == (1, 2, 0)


def test_another_tenants_workers_are_hidden(tenant: Tenant, other_api: APIClient) -> None:
    worker = make_worker(tenant)

    assert other_api.get("/api/v1/workers").json()["results"] == []
    response = other_api.get(f"/api/v1/workers/{worker.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_workers_are_read_only(api: APIClient, tenant: Tenant) -> None:
    worker = make_worker(tenant)

    response = api.delete(f"/api/v1/workers/{worker.id}")

    assert response.status_code == 405
    assert response.json()["error"] == {
        "code": "method_not_allowed",
        "message": 'Method "DELETE" not allowed.',
        "details": {},
    }
    assert Worker.objects.filter(pk=worker.pk).exists()
