"""The engine's figures for /metrics (hatchet/metrics.py): what this process saw start
and finish, and the cluster's open work read from the database at each scrape, through
the partial indexes over open rows only (a scrape costs no walk through history)."""

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hatchet.metrics import DURATION_BUCKETS, LATENCY_BUCKETS, REGISTRY
from hatchet.tracing import is_tracing, record_span, span_id_of
from workflows.models import (
    CronTrigger,
    DurableWait,
    ScheduledRun,
    ScheduledRunStatus,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

logger = logging.getLogger(__name__)
SUCCEEDED = StepRunStatus.SUCCEEDED

TRIGGER_TO_START = Histogram(
    "hatchet_trigger_to_start_seconds",
    "From a run's trigger to the start of its first step, for runs started in this process.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
STEP_RUN_DURATION = Histogram(
    "hatchet_step_run_duration_seconds",
    "From a step run's start to its end, by how it ended, for step runs ended in this process.",
    ["status"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
STEP_RUNS_FINISHED = Counter(
    "hatchet_step_runs_finished",
    "Step runs ended in this process, by how they ended.",
    ["status"],
    registry=REGISTRY,
)
RUNS_FINISHED = Counter(
    "hatchet_workflow_runs_finished",
    "Workflow runs ended in this process, by how they ended.",
    ["status"],
    registry=REGISTRY,
)


@dataclass(frozen=True)
class Ending:
    """A step run or run that ended: its figures, what its log line names, and the times
    its spans cover."""

    status: str
    ids: dict[str, Any]
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime

    @property
    def seconds(self) -> float | None:
        """From its start to its end, if it started."""
        if self.started_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass
class Measures:
    """What a transaction started and ended, recorded and logged once it commits (a
    rolled back transaction ended nothing)."""

    trigger_to_start: list[float] = field(default_factory=list)
    runs_finished: list[Ending] = field(default_factory=list)
    step_runs_finished: list[Ending] = field(default_factory=list)

    def run_started(self, run: WorkflowRun) -> None:
        if run.started_at is not None:
            self.trigger_to_start.append((run.started_at - run.created_at).total_seconds())

    def run_finished(self, run: WorkflowRun) -> None:
        ids = {"tenant_id": run.tenant_id, "workflow_run_id": run.pk}
        ended = run.finished_at or timezone.now()
        self.runs_finished.append(
            Ending(run.status, ids, run.error, run.created_at, run.started_at, ended)
        )

    def step_run_finished(self, step_run: StepRun) -> None:
        ids = {
            "tenant_id": step_run.tenant_id,
            "workflow_run_id": step_run.workflow_run_id,
            "step_run_id": step_run.pk,
            "attempt": step_run.attempt,
            "action": step_run.action,
        }
        self.step_runs_finished.append(
            Ending(
                step_run.status,
                ids,
                step_run.error,
                step_run.created_at,
                step_run.started_at,
                step_run.finished_at or timezone.now(),
            )
        )

    def __bool__(self) -> bool:
        return bool(self.trigger_to_start or self.runs_finished or self.step_runs_finished)

    def record(self) -> None:
        for seconds in self.trigger_to_start:
            TRIGGER_TO_START.observe(max(seconds, 0.0))
        for ending in self.step_runs_finished:
            STEP_RUNS_FINISHED.labels(ending.status).inc()
            if ending.seconds is not None:
                STEP_RUN_DURATION.labels(ending.status).observe(max(ending.seconds, 0.0))
            log_ending("step run", ending)
        for ending in self.runs_finished:
            RUNS_FINISHED.labels(ending.status).inc()
            log_ending("workflow run", ending)
        if is_tracing():
            for ending in self.step_runs_finished:
                trace_step_run(ending)
            for ending in self.runs_finished:
                trace_run(ending)


def trace_run(ending: Ending) -> None:
    """The run's root span: from its trigger to its end."""
    run_id = ending.ids["workflow_run_id"]
    attributes = {"hatchet.workflow_run_id": str(run_id), "hatchet.status": ending.status}
    if ending.error:
        attributes["hatchet.error"] = ending.error[:1000]
    record_span(
        "workflow run",
        run_id.int,
        span_id_of(run_id),
        None,
        ending.created_at,
        ending.finished_at,
        attributes,
    )


def trace_step_run(ending: Ending) -> None:
    """A step run's span under its run's, from its creation to its end, and within it
    the wait until a worker started it: the worker's own span of the step sits beside
    that wait, under the step run's (hatchet.tracing.traceparent)."""
    run_id, step_run_id = ending.ids["workflow_run_id"], ending.ids["step_run_id"]
    attributes = {
        "hatchet.workflow_run_id": str(run_id),
        "hatchet.step_run_id": str(step_run_id),
        "hatchet.action": ending.ids["action"],
        "hatchet.attempt": ending.ids["attempt"],
        "hatchet.status": ending.status,
    }
    if ending.error:
        attributes["hatchet.error"] = ending.error[:1000]
    span_id = span_id_of(step_run_id)
    record_span(
        f"step run {ending.ids['action']}",
        run_id.int,
        span_id,
        span_id_of(run_id),
        ending.created_at,
        ending.finished_at,
        attributes,
    )
    waited_until = ending.started_at or ending.finished_at
    record_span(
        "queued",
        run_id.int,
        random.getrandbits(64) or 1,
        span_id,
        ending.created_at,
        waited_until,
        {"hatchet.step_run_id": str(step_run_id)},
    )


def log_ending(what: str, ending: Ending) -> None:
    """One line per ending: at INFO when it did not succeed, else at DEBUG."""
    level = logging.DEBUG if ending.status == SUCCEEDED else logging.INFO
    if logger.isEnabledFor(level):
        error = ending.error.partition("\n")[0][:500]
        logger.log(
            level, "%s %s%s", what, ending.status, f": {error}" if error else "", extra=ending.ids
        )


# The open statuses each count covers, and the partial index it reads.
HELD_STATUSES = [StepRunStatus.ASSIGNED, StepRunStatus.RUNNING]
OPEN_RUN_STATUSES = [WorkflowRunStatus.PENDING, WorkflowRunStatus.RUNNING]


class EngineCollector(Collector):
    """The cluster's open work, read at each scrape."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "hatchet_queue_depth",
            "Step runs queued for a worker, by tenant and action.",
            labels=["tenant", "action"],
        )
        oldest = GaugeMetricFamily(
            "hatchet_queue_oldest_seconds",
            "How long the longest-queued step run of each action has been claimable.",
            labels=["tenant", "action"],
        )
        queued = (
            StepRun.objects.filter(status=StepRunStatus.QUEUED)
            .values_list("tenant__slug", "action")
            .annotate(n=Count("id"), first=Min("ranked_at"))
            .order_by()
        )
        queued_by_tenant: dict[str, int] = {}
        for tenant, action, n, first in queued:
            depth.add_metric([tenant, action], n)
            oldest.add_metric([tenant, action], max((now - first).total_seconds(), 0.0))
            queued_by_tenant[tenant] = queued_by_tenant.get(tenant, 0) + n
        yield depth
        yield oldest

        step_runs = GaugeMetricFamily(
            "hatchet_step_runs",
            "Open step runs by tenant and status (queued, held by a worker, durable waiting).",
            labels=["tenant", "status"],
        )
        for tenant, n in queued_by_tenant.items():
            step_runs.add_metric([tenant, StepRunStatus.QUEUED], n)
        held = (
            StepRun.objects.filter(deadline__isnull=False, status__in=HELD_STATUSES)
            .values_list("tenant__slug", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for tenant, status, n in held:
            step_runs.add_metric([tenant, status], n)
        waiting = (
            DurableWait.objects.filter(resolved_at__isnull=True)
            .values_list("step_run__tenant__slug")
            .annotate(n=Count("step_run_id", distinct=True))
            .order_by()
        )
        for tenant, n in waiting:
            step_runs.add_metric([tenant, StepRunStatus.WAITING], n)
        yield step_runs

        runs = GaugeMetricFamily(
            "hatchet_workflow_runs",
            "Open workflow runs by tenant and status.",
            labels=["tenant", "status"],
        )
        open_runs = (
            WorkflowRun.objects.filter(status__in=OPEN_RUN_STATUSES)
            .values_list("tenant__slug", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for tenant, status, n in open_runs:
            runs.add_metric([tenant, status], n)
        yield runs

        yield GaugeMetricFamily(
            "hatchet_tick_lag_seconds",
            "How long the oldest work due on the tick (a cron, a schedule, a deadline) has "
            "waited for it; 0 when the tick is on time.",
            value=tick_lag_seconds(now),
        )


def tick_lag_seconds(now: datetime) -> float:
    """How far behind the tick is: the age of the oldest due work it has not done."""
    firsts = [
        CronTrigger.objects.filter(is_paused=False, next_fire_at__lte=now).aggregate(
            first=Min("next_fire_at")
        )["first"],
        ScheduledRun.objects.filter(
            status=ScheduledRunStatus.SCHEDULED, trigger_at__lte=now
        ).aggregate(first=Min("trigger_at"))["first"],
        StepRun.objects.filter(deadline__isnull=False, deadline__lte=now).aggregate(
            first=Min("deadline")
        )["first"],
        WorkflowRun.objects.filter(deadline__isnull=False, deadline__lte=now).aggregate(
            first=Min("deadline")
        )["first"],
        DurableWait.objects.filter(resolved_at__isnull=True, due_at__lte=now).aggregate(
            first=Min("due_at")
        )["first"],
    ]
    due = [first for first in firsts if first is not None]
    return max((now - min(due)).total_seconds(), 0.0) if due else 0.0


ENGINE_COLLECTOR = EngineCollector()
