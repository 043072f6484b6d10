"""The tick's queue depth samples: one row per tenant per minute however many passes
(and nodes) sample it, and samples past SAMPLE_RETENTION forgotten a batch at a time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hatchet.models import Tenant
from tests.factories import register, start_run
from workflows.engine import overview
from workflows.engine.overview import record_queue_depths, sample_queue_depths
from workflows.models import QueueDepthSample

pytestmark = pytest.mark.django_db


def samples() -> list[tuple[str, str, int]]:
    rows = QueueDepthSample.objects.order_by("minute", "tenant__slug")
    return [(s.tenant.slug, s.minute.strftime("%H:%M:%S"), s.depth) for s in rows]


@pytest.mark.usefixtures("other_tenant")
def test_each_tenant_is_sampled_once_a_minute_however_many_passes_run(tenant: Tenant) -> None:
    register(tenant)
    start_run(tenant)
    start_run(tenant)
    now = timezone.now().replace(hour=10, minute=30, second=5)

    first = sample_queue_depths(now)
    second = sample_queue_depths(now + timedelta(seconds=50))
    start_run(tenant)
    next_minute = sample_queue_depths(now + timedelta(seconds=60))

    assert [first, second, next_minute] == [
        {"queue_depths_sampled": 2, "queue_depth_samples_forgotten": 0},
        {"queue_depths_sampled": 0, "queue_depth_samples_forgotten": 0},
        {"queue_depths_sampled": 2, "queue_depth_samples_forgotten": 0},
    ]
    assert samples() == [
        ("acme", "10:30:00", 2),
        ("globex", "10:30:00", 0),
        ("acme", "10:31:00", 3),
        ("globex", "10:31:00", 0),
    ]


def test_two_nodes_sampling_the_same_minute_write_one_row_per_tenant(tenant: Tenant) -> None:
    register(tenant)
    start_run(tenant)
    minute = timezone.now().replace(hour=10, minute=30, second=0, microsecond=0)
    # Both saw no sample of the minute; the first to write keeps its count.
    record_queue_depths(minute)
    start_run(tenant)
    record_queue_depths(minute)

    assert samples() == [("acme", "10:30:00", 1)]


def test_samples_older_than_the_retention_are_forgotten_a_batch_at_a_time(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overview, "FORGET_BATCH", 2)
    now = timezone.now().replace(second=30, microsecond=0)
    for days in [9, 8.5, 8.01, 7.99]:
        QueueDepthSample.objects.create(
            tenant=tenant, minute=now - timedelta(days=days, seconds=30), depth=1
        )

    forgotten = [sample_queue_depths(now)["queue_depth_samples_forgotten"] for _ in range(3)]

    assert forgotten == [2, 1, 0]
    kept = QueueDepthSample.objects.order_by("minute").values_list("minute", flat=True)
    assert list(kept) == [now - timedelta(days=7.99, seconds=30), now.replace(second=0)]
