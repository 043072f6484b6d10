"""One-off schedules: a workflow run to start once, at a given time; created,
rescheduled and cancelled while SCHEDULED, and fired by the ticker exactly once."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from hatchet.wire.durations import MAX_SCHEDULE_AHEAD
from workflows.engine.firing import fire_due
from workflows.engine.versions import latest_version
from workflows.models import ScheduledRun, ScheduledRunStatus


def check_trigger_at(trigger_at: Any, now: datetime) -> datetime:
    if not isinstance(trigger_at, datetime) or timezone.is_naive(trigger_at):
        raise InvalidRequest("trigger_at must be a time with its time zone (ISO 8601).")
    if trigger_at < now:
        raise InvalidRequest(
            f"trigger_at {trigger_at.isoformat()} is in the past (now is {now.isoformat()}).",
            {"trigger_at": trigger_at.isoformat(), "now": now.isoformat()},
        )
    if trigger_at > now + MAX_SCHEDULE_AHEAD:
        raise InvalidRequest(
            f"trigger_at {trigger_at.isoformat()} is too far ahead: at most "
            f"{MAX_SCHEDULE_AHEAD.days} days after now ({now.isoformat()}).",
            {"trigger_at": trigger_at.isoformat(), "now": now.isoformat()},
        )
    return trigger_at


def schedule_run(
    tenant: Tenant,
    workflow_name: str,
    trigger_at: Any,
    *,
    input: Any = None,
    additional_metadata: Any = None,
) -> ScheduledRun:
    """Schedule one run of the workflow's latest version (as of firing) at `trigger_at`."""
    check_trigger_at(trigger_at, timezone.now())
    input = {} if input is None else input
    additional_metadata = {} if additional_metadata is None else additional_metadata
    workflow = latest_version(tenant, workflow_name).workflow
    return ScheduledRun.objects.create(
        tenant=tenant,
        workflow=workflow,
        trigger_at=trigger_at,
        input=input,
        additional_metadata=additional_metadata,
    )


def scheduled_run_or_404(tenant: Tenant, scheduled_run_id: Any) -> ScheduledRun:
    scheduled_runs = ScheduledRun.objects.filter(tenant=tenant).select_related("workflow")
    return get_or_404(scheduled_runs, "Schedule not found.", pk=scheduled_run_id)


def locked_while_scheduled(tenant: Tenant, scheduled_run_id: Any, doing: str) -> ScheduledRun:
    """The schedule, locked; Conflict if it already fired or was cancelled. Call in a
    transaction."""
    scheduled = scheduled_run_or_404(tenant, scheduled_run_id)
    scheduled = (
        ScheduledRun.objects.select_for_update().select_related("workflow").get(pk=scheduled.pk)
    )
    if scheduled.status != ScheduledRunStatus.SCHEDULED:
        raise Conflict(
            f"Cannot {doing} a schedule that is {scheduled.status}.",
            {"id": str(scheduled.pk), "status": scheduled.status},
        )
    return scheduled


def reschedule_run(tenant: Tenant, scheduled_run_id: Any, trigger_at: Any) -> ScheduledRun:
    check_trigger_at(trigger_at, timezone.now())
    with transaction.atomic():
        scheduled = locked_while_scheduled(tenant, scheduled_run_id, "reschedule")
        scheduled.trigger_at = trigger_at
        scheduled.save(update_fields=["trigger_at"])
    return scheduled


def cancel_scheduled_run(tenant: Tenant, scheduled_run_id: Any) -> ScheduledRun:
    with transaction.atomic():
        scheduled = locked_while_scheduled(tenant, scheduled_run_id, "cancel")
        scheduled.status = ScheduledRunStatus.CANCELLED
        scheduled.save(update_fields=["status"])
    return scheduled


def fire_due_schedules(now: datetime | None = None) -> int:
    """Start the run of every schedule due at `now` and mark it FIRED. Safe on many
    nodes at once."""
    now = now or timezone.now()

    def fired(scheduled: ScheduledRun) -> None:
        scheduled.status = ScheduledRunStatus.FIRED
        scheduled.fired_at = now

    return fire_due(
        ScheduledRun.objects.filter(
            status=ScheduledRunStatus.SCHEDULED, trigger_at__lte=now
        ).order_by("trigger_at"),
        trigger="schedule",
        link="scheduled_run",
        due_at=lambda scheduled: scheduled.trigger_at,
        advance=fired,
        fields=["status", "fired_at"],
    )
