"""GET /api/v1/overview: a tenant's runs, failures, trigger-to-start percentiles and
sampled queue depth in 60 buckets of a window, and what is queued, running and
connected now; counted on the database, the same on both backends."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import ScriptedWorker, connect_worker, register, start_run
from workflows.models import QueueDepthSample, WorkflowRun

pytestmark = pytest.mark.django_db


def minutes_ago(minutes: int) -> datetime:
    """The start of the minute `minutes` before this one."""
    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=minutes)


def add_runs(tenant: Tenant, at: datetime, *runs: tuple[str, float | None]) -> None:
    """Runs of Chain created at `at`, each with its status and its trigger-to-start
    seconds (None: not started)."""
    version = register(tenant)
    WorkflowRun.objects.bulk_create(
        WorkflowRun(
            tenant=tenant,
            workflow=version.workflow,
            version=version,
            status=status,
            created_at=at,
            started_at=None if latency is None else at + timedelta(seconds=latency),
        )
        for status, latency in runs
    )


def start_of(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bucket_at(body: dict[str, Any], start: datetime) -> dict[str, Any]:
    [bucket] = [b for b in body["buckets"] if b["start"] == start_of(start)]
    return bucket


def test_each_bucket_counts_the_runs_triggered_in_it_and_their_latency_percentiles(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    busy, quiet = minutes_ago(5), minutes_ago(2)
    add_runs(
        tenant,
        busy + timedelta(seconds=10),
        ("SUCCEEDED", 0.1),
        ("FAILED", 0.2),
        ("CANCELLED", 0.4),
        ("PENDING", None),
    )
    add_runs(tenant, quiet, *(("SUCCEEDED", ms / 1000) for ms in range(1, 201)))
    add_runs(other_tenant, busy, ("FAILED", 9.0), ("FAILED", 9.0))

    response = api.get("/api/v1/overview?window=1h")

    assert response.status_code == 200
    body = response.json()
    assert (body["window"], body["bucket_seconds"], len(body["buckets"])) == ("1h", 60, 60)
    assert bucket_at(body, busy) == {
        "start": start_of(busy),
        "runs": 4,
        "runs_per_second": 0.067,
        "failed": 1,
        "cancelled": 1,
        "p50_ms": 200.0,
        "p99_ms": 400.0,
        "queue_depth": None,
    }
    # Nearest rank: the 100th and the 198th of 200 latencies, 1 to 200 ms.
    quiet_bucket = bucket_at(body, quiet)
    assert (quiet_bucket["runs"], quiet_bucket["failed"]) == (200, 0)
    assert (quiet_bucket["p50_ms"], quiet_bucket["p99_ms"]) == (100.0, 198.0)
    others = [b for b in body["buckets"] if b["start"] not in {start_of(busy), start_of(quiet)}]
    assert {(b["runs"], b["p50_ms"]) for b in others} == {(0, None)}


def test_queue_depth_is_the_largest_sample_of_each_bucket(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # 6h: buckets of 6 minutes, aligned on multiples of them since 1970.
    bucket = datetime.fromtimestamp(timezone.now().timestamp() // 360 * 360 - 3 * 360, UTC)
    for minute, depth in [(0, 3), (1, 7), (5, 5)]:
        QueueDepthSample.objects.create(
            tenant=tenant, minute=bucket + timedelta(minutes=minute), depth=depth
        )
    QueueDepthSample.objects.create(tenant=other_tenant, minute=bucket, depth=99)
    QueueDepthSample.objects.create(tenant=tenant, minute=bucket + timedelta(minutes=6), depth=0)

    body = api.get("/api/v1/overview?window=6h").json()

    assert body["bucket_seconds"] == 360
    depths = {b["start"]: b["queue_depth"] for b in body["buckets"]}
    sampled = {start_of(bucket): 7, start_of(bucket + timedelta(minutes=6)): 0}
    assert {start: depth for start, depth in depths.items() if depth is not None} == sampled


def test_the_totals_are_what_is_queued_running_and_connected_now(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    register(tenant)
    start_run(tenant)
    ScriptedWorker(tenant).start("Chain:a")
    # Their first steps wait in the queue.
    start_run(tenant)
    start_run(tenant)
    register(other_tenant)
    start_run(other_tenant)
    connect_worker(tenant, "w", ["Chain:a"])

    body = api.get("/api/v1/overview").json()

    assert (body["window"], body["queued"], body["running"], body["workers"]) == ("1h", 2, 1, 1)
    assert sum(b["runs"] for b in body["buckets"]) == 3


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("window=2h", {"window": ['"2h" is not a valid choice.']}),
        ("window=", {"window": ["May not be blank."]}),
        ("limit=10", {"limit": ["Unknown query parameter."]}),
        ("tenant=globex", {"tenant": ["Unknown query parameter."]}),
    ],
)
def test_a_bad_parameter_is_refused(
    api: APIClient, query: str, details: dict[str, list[str]]
) -> None:
    response = api.get(f"/api/v1/overview?{query}")

    assert response.status_code == 400
    [(name, [message])] = details.items()
    assert response.json() == {
        "error": {"code": "invalid_request", "message": f"{name}: {message}", "details": details}
    }
