"""Crons: expressions and time zones checked, declared crons kept in step with the
latest version, API crons created, paused, resumed and deleted, and due crons fired.

An expression has five fields (minute hour day-of-month month day-of-week), or six
with a leading seconds field (`*/10 * * * * *`: every ten seconds), or is one of the
aliases in ALIASES. Times are computed in the cron's time zone (DST included).
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.engine.firing import fire_due
from workflows.engine.versions import latest_version
from workflows.models import CronTrigger, WorkflowVersion

ALIASES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
MAX_NAME_LENGTH = 200


def cron_problem(expression: Any) -> str | None:
    """Why the expression is not a cron we run, or None if it is one."""
    if not isinstance(expression, str) or not expression.strip():
        return "A cron expression must be a non-empty string."
    expression = expression.strip()
    if expression.startswith("@"):
        if expression.lower() in ALIASES:
            return None
        return f"Unknown cron alias '{expression}'; use one of {', '.join(sorted(ALIASES))}."
    if len(expression.split()) not in (5, 6):
        return (
            f"Invalid cron expression '{expression}'. Use five fields (minute hour "
            "day-of-month month day-of-week), six with leading seconds, or an alias."
        )
    if not croniter.is_valid(expression, second_at_beginning=True):
        return f"Invalid cron expression '{expression}'."
    return None


def zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise InvalidRequest("timezone must be an IANA time zone name such as 'Europe/Paris'.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(
            f"Unknown time zone '{name}': use an IANA name such as 'Europe/Paris'.",
            {"timezone": name},
        ) from None


def next_fire_time(expression: str, timezone_name: str, after: datetime) -> datetime:
    """The first time strictly after `after` that the cron fires, in UTC."""
    local = after.astimezone(zone(timezone_name))
    following = croniter(expression.strip().lower(), local, second_at_beginning=True)
    return following.get_next(datetime).astimezone(ZoneInfo("UTC"))


def check_cron(expression: Any, timezone_name: Any) -> None:
    problem = cron_problem(expression)
    if problem is not None:
        raise InvalidRequest(problem, {"expression": expression})
    zone(timezone_name)


def sync_declared_crons(version: WorkflowVersion, expressions: list[str]) -> None:
    """Make the workflow's declared crons those of `version`, its new latest version;
    a cron declared before and still declared keeps its next fire time. Call in the
    registration's transaction."""
    workflow = version.workflow
    declared = CronTrigger.objects.filter(workflow=workflow, source=CronTrigger.Source.DECLARED)
    wanted = list(dict.fromkeys(expressions))
    declared.exclude(expression__in=wanted).delete()
    kept = set(declared.values_list("expression", flat=True))
    now = timezone.now()
    CronTrigger.objects.bulk_create(
        CronTrigger(
            tenant_id=workflow.tenant_id,
            workflow=workflow,
            source=CronTrigger.Source.DECLARED,
            expression=expression,
            next_fire_at=next_fire_time(expression, "UTC", now),
        )
        for expression in wanted
        if expression not in kept
    )


def create_cron(
    tenant: Tenant,
    workflow_name: str,
    expression: Any,
    *,
    name: Any = "",
    input: Any = None,
    additional_metadata: Any = None,
    timezone_name: Any = "UTC",
) -> CronTrigger:
    """A cron of the workflow created at run time; it fires first at the next time the
    expression names."""
    check_cron(expression, timezone_name)
    name = "" if name is None else name
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"name must be a string of at most {MAX_NAME_LENGTH} characters.")
    input = {} if input is None else input
    additional_metadata = {} if additional_metadata is None else additional_metadata
    workflow = latest_version(tenant, workflow_name).workflow
    with transaction.atomic():
        if name and CronTrigger.objects.filter(workflow=workflow, name=name).exists():
            raise Conflict(
                f"{workflow.name} already has a cron named '{name}'.",
                {"workflow": workflow.name, "name": name},
            )
        return CronTrigger.objects.create(
            tenant=tenant,
            workflow=workflow,
            source=CronTrigger.Source.API,
            name=name,
            expression=expression.strip(),
            timezone_name=timezone_name,
            input=input,
            additional_metadata=additional_metadata,
            next_fire_at=next_fire_time(expression, timezone_name, timezone.now()),
        )


def cron_or_404(tenant: Tenant, cron_id: Any) -> CronTrigger:
    crons = CronTrigger.objects.filter(tenant=tenant).select_related("workflow")
    return get_or_404(crons, "Cron not found.", pk=cron_id)


def pause_cron(tenant: Tenant, cron_id: Any) -> CronTrigger:
    cron = cron_or_404(tenant, cron_id)
    CronTrigger.objects.filter(pk=cron.pk).update(is_paused=True)
    cron.is_paused = True
    return cron


def resume_cron(tenant: Tenant, cron_id: Any) -> CronTrigger:
    """Fire again from the next time after now: what was missed while paused is not."""
    cron = cron_or_404(tenant, cron_id)
    with transaction.atomic():
        cron = CronTrigger.objects.select_for_update().select_related("workflow").get(pk=cron.pk)
        if cron.is_paused:
            cron.is_paused = False
            cron.next_fire_at = next_fire_time(cron.expression, cron.timezone_name, timezone.now())
            cron.save(update_fields=["is_paused", "next_fire_at"])
    return cron


def delete_cron(tenant: Tenant, cron_id: Any) -> None:
    cron = cron_or_404(tenant, cron_id)
    if cron.source == CronTrigger.Source.DECLARED:
        raise Conflict(
            "This cron is declared in the workflow's definition (on_crons): remove it there, "
            "or pause it.",
            {"id": str(cron.pk), "workflow": cron.workflow.name},
        )
    cron.delete()


def fire_due_crons(now: datetime | None = None) -> int:
    """Start one run of every cron due at `now` and move each to its first time after
    now: after downtime a missed tick fires once, not once per tick missed. Safe on
    many nodes at once."""
    now = now or timezone.now()

    def advance(cron: CronTrigger) -> None:
        cron.last_fired_at = now
        cron.next_fire_at = next_fire_time(cron.expression, cron.timezone_name, now)

    return fire_due(
        CronTrigger.objects.filter(is_paused=False, next_fire_at__lte=now).order_by("next_fire_at"),
        trigger="cron",
        link="cron",
        due_at=lambda cron: cron.next_fire_at,
        advance=advance,
        fields=["last_fired_at", "next_fire_at"],
    )
