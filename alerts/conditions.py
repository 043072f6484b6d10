"""What each kind of alert rule measures, now: a breach (what to tell) or None."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from alerts.models import AlertKind, AlertRule
from workers.models import WORKER_LIVE, Worker, WorkerStatus
from workflows.models import StepRun, StepRunStatus, WorkflowRun, WorkflowRunStatus

# How many runs, step runs or actions a notification names; it counts them all.
NAMED_AT_MOST = 5


@dataclass(frozen=True)
class Breach:
    title: str
    lines: list[str]


def breach_of(rule: AlertRule, now: datetime) -> Breach | None:
    measure = {
        AlertKind.FAILED_RUNS: failed_runs_breach,
        AlertKind.WORKERS_GONE: workers_gone_breach,
        AlertKind.QUEUE_WAIT: queue_wait_breach,
    }[AlertKind(rule.kind)]
    return measure(rule, now)


def of_which(rule: AlertRule) -> str:
    return f" of {rule.workflow.name}" if rule.workflow else ""


def run_link(run_id: object) -> str:
    return f"{settings.HATCHET_PUBLIC_URL}/runs/{run_id}"


def seconds_text(seconds: float) -> str:
    whole = int(seconds)
    if whole % 3600 == 0 and whole >= 3600:
        return f"{whole // 3600} h"
    if whole % 60 == 0 and whole >= 60:
        return f"{whole // 60} min"
    return f"{whole} s"


def failed_runs_breach(rule: AlertRule, now: datetime) -> Breach | None:
    """`threshold` or more workflow runs (of the rule's workflow) failed within the
    window."""
    failed = WorkflowRun.objects.filter(
        tenant_id=rule.tenant_id,
        status=WorkflowRunStatus.FAILED,
        finished_at__gt=now - timedelta(seconds=rule.window_seconds),
    )
    if rule.workflow_id:
        failed = failed.filter(workflow_id=rule.workflow_id)
    count = failed.count()
    if count < rule.threshold:
        return None
    latest = failed.select_related("workflow").order_by("-finished_at")[:NAMED_AT_MOST]
    return Breach(
        title=f"{count} failed runs{of_which(rule)} in the last "
        f"{seconds_text(rule.window_seconds)} (threshold {rule.threshold})",
        lines=[
            f"{run.workflow.name}: {first_line(run.error) or 'failed'} {run_link(run.pk)}"
            for run in latest
        ],
    )


def first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


def workers_gone_breach(rule: AlertRule, now: datetime) -> Breach | None:
    """An action (of the rule's workflow) that a worker served within the window has
    no live worker left: the workers that served it stopped (drained, or silent past
    the worker timeout) and none took over. A worker that is disconnected but may
    still come back counts as live."""
    workers = Worker.objects.filter(tenant_id=rule.tenant_id)
    gone = workers.filter(
        status=WorkerStatus.STOPPED,
        last_heartbeat_at__gt=now - timedelta(seconds=rule.window_seconds),
    )
    live_actions = {
        action
        for actions in workers.filter(status__in=WORKER_LIVE).values_list("actions", flat=True)
        for action in actions
    }
    prefix = f"{rule.workflow.name}:" if rule.workflow else ""
    lost: dict[str, list[str]] = {}
    for name, actions in gone.order_by("-last_heartbeat_at").values_list("name", "actions"):
        for action in actions:
            if action.startswith(prefix) and action not in live_actions:
                lost.setdefault(action, []).append(name)
    if not lost:
        return None
    named = sorted(lost)[:NAMED_AT_MOST]
    return Breach(
        title=f"{len(lost)} actions{of_which(rule)} have no live worker",
        lines=[
            f"{action}: last served by {', '.join(sorted(set(lost[action])))}" for action in named
        ],
    )


def queue_wait_breach(rule: AlertRule, now: datetime) -> Breach | None:
    """A step run (of the rule's workflow) has waited in the queue for a worker
    `threshold` seconds or more, counted from when it became claimable (after a retry's
    backoff or a rate limit's wait, from its end)."""
    # Both halves name a partial queue index's condition: the queue is read through
    # them, not by a scan of every step run.
    queued = StepRun.objects.filter(
        Q(status=StepRunStatus.QUEUED, constrained=False)
        | Q(status=StepRunStatus.QUEUED, constrained=True),
        tenant_id=rule.tenant_id,
    )
    if rule.workflow_id:
        queued = queued.filter(workflow_run__workflow_id=rule.workflow_id)
    waiting = queued.filter(available_at__lte=now - timedelta(seconds=rule.threshold))
    count = waiting.count()
    if count == 0:
        return None
    oldest = list(waiting.order_by("available_at")[:NAMED_AT_MOST])
    return Breach(
        title=f"{count} step runs{of_which(rule)} waiting for a worker longer than "
        f"{seconds_text(rule.threshold)}",
        lines=[
            f"{step_run.action}: waiting {seconds_text(waited(step_run, now))}"
            f" {run_link(step_run.workflow_run_id)}"
            for step_run in oldest
        ],
    )


def waited(step_run: StepRun, now: datetime) -> float:
    return (now - (step_run.available_at or now)).total_seconds()
