"""The workers' figures for /metrics (hatchet/metrics.py): the batches of reports this
process applied, and the cluster's connected workers and their slots, read at each
scrape."""

from collections.abc import Iterable
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hatchet.metrics import REGISTRY
from workers.models import Worker, WorkerStatus
from workers.registry import with_used_slots

REPORT_BATCH_SIZE = Histogram(
    "hatchet_report_batch_size",
    "Worker reports and lines applied in one transaction, in this process.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
    registry=REGISTRY,
)

CONNECTED = [WorkerStatus.ACTIVE, WorkerStatus.DRAINING]


class WorkerCollector(Collector):
    def collect(self) -> Iterable[GaugeMetricFamily]:
        workers = GaugeMetricFamily(
            "hatchet_workers",
            "Connected workers by tenant and status.",
            labels=["tenant", "status"],
        )
        slots = GaugeMetricFamily(
            "hatchet_worker_slots",
            "Slots of the connected workers by tenant, used (holding a step run) or free.",
            labels=["tenant", "state"],
        )
        counts: dict[tuple[str, str], int] = {}
        used: dict[str, int] = {}
        free: dict[str, int] = {}
        # An annotation django-stubs cannot see through with_used_slots.
        annotated: Any = with_used_slots(Worker.objects.filter(status__in=CONNECTED))
        rows = annotated.values_list("tenant__slug", "status", "slots", "used_slots")
        for tenant, status, capacity, held in rows:
            counts[tenant, status] = counts.get((tenant, status), 0) + 1
            used[tenant] = used.get(tenant, 0) + held
            free[tenant] = free.get(tenant, 0) + max(capacity - held, 0)
        for (tenant, status), n in counts.items():
            workers.add_metric([tenant, status], n)
        for tenant in used:
            slots.add_metric([tenant, "used"], used[tenant])
            slots.add_metric([tenant, "free"], free[tenant])
        yield workers
        yield slots


WORKER_COLLECTOR = WorkerCollector()
