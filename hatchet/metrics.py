"""Prometheus metrics: one registry per process, read at `/metrics`.

Two kinds of figures leave here. Those this process counted (histograms of latency and
duration, counters of what finished, batch sizes) are its own: scrape every server and
add them up (`sum by (le)`). The gauges of the whole cluster (queue depth, open runs,
worker slots, tick lag, Celery task outcomes) are read from the database at each scrape,
so every server answers the same figures: take them from any one (`max`). Each app
registers its own collectors when it starts; this module knows none of them."""

import hmac
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from rest_framework.request import Request
from rest_framework.response import Response

from hatchet.api import error_response

REGISTRY = CollectorRegistry()

# Seconds, from a millisecond to a minute: where trigger-to-start and short steps fall.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Seconds, from a millisecond to an hour: steps range from no-ops to long LLM chains.
DURATION_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)

TICK_PASS_SECONDS = Histogram(
    "hatchet_tick_pass_seconds",
    "How long each pass of a periodic work took in this process, by work and outcome.",
    ["work", "outcome"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)


def register_collector(collector: Collector) -> None:
    """Add an app's collector once, however often its app starts (tests restart them)."""
    if collector not in _registered:
        REGISTRY.register(collector)
        _registered.append(collector)


_registered: list[Collector] = []


def metrics_response(request: Request) -> HttpResponse | Response:
    """The registry in Prometheus's text format, for a request bearing the metrics token
    (HATCHET_METRICS_TOKEN): the figures name tenants, actions and workers, which no
    anonymous caller may read."""
    token = settings.HATCHET_METRICS_TOKEN
    if not token:
        return error_response(
            503,
            "not_configured",
            "Metrics are off: set HATCHET_METRICS_TOKEN and scrape with "
            "'Authorization: Bearer <token>'.",
        )
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip(), token):
        return error_response(
            401,
            "not_authenticated",
            "Send the metrics token (HATCHET_METRICS_TOKEN) as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def count_task_outcome(task: str, outcome: str) -> None:
    """One more Celery task of `task` ended with `outcome`, kept in the database so that
    any server reports every Celery worker's outcomes (a prefork child's counters would
    die with it)."""
    from hatchet.models import TaskOutcomeCount

    counted = TaskOutcomeCount.objects.filter(task=task, outcome=outcome)
    if counted.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            TaskOutcomeCount.objects.create(task=task, outcome=outcome, count=1)
    except IntegrityError:
        counted.update(count=F("count") + 1)  # another process created it first


class TaskOutcomeCollector(Collector):
    def collect(self) -> Iterable[CounterMetricFamily]:
        from hatchet.models import TaskOutcomeCount

        family = CounterMetricFamily(
            "hatchet_celery_tasks",
            "Celery tasks ended, by task and outcome (success, failure, retry), on every worker.",
            labels=["task", "outcome"],
        )
        for task, outcome, count in TaskOutcomeCount.objects.values_list(
            "task", "outcome", "count"
        ):
            family.add_metric([task, outcome], count)
        yield family


TASK_OUTCOME_COLLECTOR = TaskOutcomeCollector()
