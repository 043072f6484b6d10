"""The dashboard's Overview: a tenant's runs, failures, trigger-to-start latency and
queue depth over a window, in about sixty buckets counted by the database, and the
tick's pass that samples queue depth once a minute (the rows cannot tell it later)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Aggregate, Count, FloatField, Func, Max, Q, QuerySet, Value
from django.db.models.functions import Floor
from django.utils import timezone

from hatchet.models import Tenant
from workflows.engine.queue import live_worker_profiles
from workflows.models import (
    QueueDepthSample,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

BUCKETS = 60
# Each window's bucket, so that each has BUCKETS of them.
WINDOWS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
DEFAULT_WINDOW = "1h"
# Longer than the longest window, so that it is drawn whole.
SAMPLE_RETENTION = timedelta(days=8)
FORGET_BATCH = 1000
# Open step runs have a deadline: the condition lets the (status, deadline) partial
# index find the queued ones without a walk through history.
QUEUED = Q(status=StepRunStatus.QUEUED, deadline__isnull=False)


class EpochSeconds(Func):
    """Seconds since 1970 of a datetime, as a float, on both databases."""

    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps milliseconds: rounded to them, a bucket's start falls in it.
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)


class Percentile(Aggregate):
    """The nearest-rank percentile of an expression's values, NULLs left out:
    PostgreSQL's percentile_disc, and the aggregate of that name that hatchet.sqlite
    adds to SQLite."""

    function = "PERCENTILE_DISC"
    output_field = FloatField()
    template = "%(function)s(%(expressions)s, %(fraction)r)"

    def __init__(self, expression: Any, fraction: float) -> None:
        super().__init__(expression, fraction=fraction)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "%(function)s(%(fraction)r) WITHIN GROUP (ORDER BY %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)


@dataclass(frozen=True)
class Buckets:
    """`count` buckets of `seconds` each, aligned on multiples of it since 1970 (so
    that a refresh draws the same buckets), the last one holding `now`."""

    seconds: int
    count: int
    now: datetime

    @classmethod
    def of_window(cls, window: str, now: datetime) -> "Buckets":
        return cls(int(WINDOWS[window].total_seconds()) // BUCKETS, BUCKETS, now)

    @property
    def first(self) -> int:
        """The first bucket's start, in seconds since 1970."""
        last = int(self.now.timestamp()) // self.seconds * self.seconds
        return last - (self.count - 1) * self.seconds

    def start(self, index: int) -> datetime:
        return datetime.fromtimestamp(self.first + index * self.seconds, UTC)

    def index_of(self, field: str) -> Floor:
        """The bucket a row's datetime `field` falls in, counted by the database."""
        since = Value(float(self.first))
        return Floor((EpochSeconds(field) - since) / Value(float(self.seconds)))

    def rows_by_bucket(self, rows: QuerySet[Any], field: str, **aggregates: Any) -> dict[int, Any]:
        """`aggregates` of the rows in each bucket of `field`, by the bucket's index."""
        within = rows.filter(**{f"{field}__gte": self.start(0)})
        grouped = (
            within.annotate(bucket=self.index_of(field))
            .values("bucket")
            .annotate(**aggregates)
            .order_by()
        )
        return {int(row.pop("bucket")): row for row in grouped}

    def elapsed(self, index: int) -> float:
        """The seconds of the bucket that have passed: all but the last one's."""
        passed = (self.now - self.start(index)).total_seconds()
        return max(min(float(self.seconds), passed), 1.0)


def seconds_to_ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def overview(tenant: Tenant, window: str, now: datetime | None = None) -> dict[str, Any]:
    """The tenant's runs triggered, failed and cancelled in each bucket (by the time they
    were triggered), their trigger-to-start p50 and p99 (exact, by the database), the
    largest queue depth sampled in it (None before the tick sampled any), and what is
    queued, running and connected now."""
    buckets = Buckets.of_window(window, now or timezone.now())
    latency = EpochSeconds("started_at") - EpochSeconds("created_at")
    runs = buckets.rows_by_bucket(
        WorkflowRun.objects.filter(tenant=tenant),
        "created_at",
        runs=Count("id"),
        failed=Count("id", filter=Q(status=WorkflowRunStatus.FAILED)),
        cancelled=Count("id", filter=Q(status=WorkflowRunStatus.CANCELLED)),
        p50=Percentile(latency, 0.5),
        p99=Percentile(latency, 0.99),
    )
    depths = buckets.rows_by_bucket(
        QueueDepthSample.objects.filter(tenant=tenant), "minute", depth=Max("depth")
    )
    none = {"runs": 0, "failed": 0, "cancelled": 0, "p50": None, "p99": None}
    series = []
    for index in range(buckets.count):
        counts = runs.get(index, none)
        series.append(
            {
                "start": buckets.start(index),
                "runs": counts["runs"],
                "runs_per_second": round(counts["runs"] / buckets.elapsed(index), 3),
                "failed": counts["failed"],
                "cancelled": counts["cancelled"],
                "p50_ms": seconds_to_ms(counts["p50"]),
                "p99_ms": seconds_to_ms(counts["p99"]),
                "queue_depth": depths.get(index, {}).get("depth"),
            }
        )
    return {
        "window": window,
        "bucket_seconds": buckets.seconds,
        "buckets": series,
        "queued": StepRun.objects.filter(QUEUED, tenant=tenant).count(),
        "running": WorkflowRun.objects.filter(
            tenant=tenant, status=WorkflowRunStatus.RUNNING
        ).count(),
        "workers": len(live_worker_profiles(tenant.pk)),
    }


def sample_queue_depths(now: datetime | None = None) -> dict[str, int]:
    """The tick's pass: each tenant's queue depth, once a minute however many nodes
    tick, and the samples older than SAMPLE_RETENTION forgotten, a batch at a time."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    is_sampled = QueueDepthSample.objects.filter(minute=minute).exists()
    return {
        "queue_depths_sampled": 0 if is_sampled else record_queue_depths(minute),
        "queue_depth_samples_forgotten": forget_samples_before(now - SAMPLE_RETENTION),
    }


def record_queue_depths(minute: datetime) -> int:
    """Write every tenant's queue depth at `minute` (0 where nothing is queued); a node
    that sampled the minute first keeps its rows. Answers the tenants counted."""
    queued = StepRun.objects.filter(QUEUED).values_list("tenant_id").annotate(n=Count("id"))
    depths = dict(queued.order_by())
    samples = [
        QueueDepthSample(tenant_id=tenant_id, minute=minute, depth=depths.get(tenant_id, 0))
        for tenant_id in Tenant.objects.values_list("pk", flat=True)
    ]
    QueueDepthSample.objects.bulk_create(samples, ignore_conflicts=True)
    return len(samples)


def forget_samples_before(cutoff: datetime) -> int:
    old = QueueDepthSample.objects.filter(minute__lt=cutoff).values_list("pk", flat=True)
    deleted, _ = QueueDepthSample.objects.filter(pk__in=list(old[:FORGET_BATCH])).delete()
    return deleted
