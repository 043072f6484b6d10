"""Crons: expressions, aliases and time zones; declared crons synced; firing once per tick."""

from datetime import UTC, datetime, timedelta

import pytest

from hatchet.errors import Conflict, InvalidDefinition, InvalidRequest
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.crons import (
    create_cron,
    delete_cron,
    fire_due_crons,
    next_fire_time,
    pause_cron,
    resume_cron,
)
from workflows.engine.definitions import register_workflow
from workflows.models import CronTrigger, WorkflowRun

pytestmark = pytest.mark.django_db

NOON = datetime(2024, 3, 30, 12, 0, 30, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        ("*/15 * * * *", "UTC", NOON, "2024-03-30T12:15:00+00:00"),
        ("@hourly", "UTC", NOON, "2024-03-30T13:00:00+00:00"),
        ("@daily", "UTC", NOON, "2024-03-31T00:00:00+00:00"),
        ("@midnight", "UTC", NOON, "2024-03-31T00:00:00+00:00"),
        ("@weekly", "UTC", NOON, "2024-03-31T00:00:00+00:00"),
        ("@monthly", "UTC", NOON, "2024-04-01T00:00:00+00:00"),
        ("@yearly", "UTC", NOON, "2025-01-01T00:00:00+00:00"),
        ("@annually", "UTC", NOON, "2025-01-01T00:00:00+00:00"),
        ("*/10 * * * * *", "UTC", NOON, "2024-03-30T12:00:40+00:00"),
        # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC after the DST change.
        ("0 9 * * *", "Europe/Paris", NOON, "2024-03-31T07:00:00+00:00"),
        ("0 9 * * *", "Europe/Paris", at("2024-01-10T12:00:00+00:00"), "2024-01-11T08:00:00+00:00"),
        ("0 9 * * *", "America/New_York", NOON, "2024-03-30T13:00:00+00:00"),
    ],
)
def test_next_fire_time_follows_the_expression_in_its_time_zone(
    expression: str, zone: str, after: datetime, expected: str
) -> None:
    assert next_fire_time(expression, zone, after) == at(expected).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "zone", "message"),
    [
        ("every day", "UTC", "Invalid cron expression 'every day'."),
        ("61 * * * *", "UTC", "Invalid cron expression '61 * * * *'."),
        ("* * * * * * *", "UTC", "Invalid cron expression '* * * * * * *'."),
        ("@reboot", "UTC", "Unknown cron alias '@reboot'"),
        ("* * * * *", "Mars/Olympus", "Unknown time zone 'Mars/Olympus'"),
        ("* * * * *", "", "timezone must be an IANA time zone name"),
    ],
)
def test_bad_crons_are_refused_clearly(
    tenant: Tenant, expression: str, zone: str, message: str
) -> None:
    register_workflow(tenant, definition("Report"))

    with pytest.raises(InvalidRequest) as error:
        create_cron(tenant, "Report", expression, timezone_name=zone)

    assert error.value.message.startswith(message)
    assert not CronTrigger.objects.exists()


def test_a_bad_declared_cron_refuses_the_definition(tenant: Tenant) -> None:
    with pytest.raises(InvalidDefinition, match="Unknown cron alias '@sometimes'"):
        register_workflow(tenant, definition("Report", on_crons=["@sometimes"]))


def test_declared_crons_follow_the_latest_version(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report", on_crons=["@daily", "0 * * * *"]))
    daily = CronTrigger.objects.get(expression="@daily")

    register_workflow(tenant, definition("Report", on_crons=["@daily", "@weekly"]))

    crons = CronTrigger.objects.order_by("expression")
    assert [(c.expression, c.source) for c in crons] == [
        ("@daily", "declared"),
        ("@weekly", "declared"),
    ]
    assert crons[0].pk == daily.pk


def test_a_due_cron_starts_one_run_and_moves_to_its_next_time(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report"))
    cron = create_cron(tenant, "Report", "*/5 * * * *", input={"kind": "summary"})
    due = cron.next_fire_at

    assert fire_due_crons(due - timedelta(seconds=1)) == 0
    assert fire_due_crons(due) == 1
    assert fire_due_crons(due) == 0

    [run] = WorkflowRun.objects.all()
    assert (run.trigger, run.cron_id, run.input) == ("cron", cron.pk, {"kind": "summary"})
    assert run.fire_time == due
    cron.refresh_from_db()
    assert (cron.last_fired_at, cron.next_fire_at) == (due, due + timedelta(minutes=5))


def test_after_downtime_a_missed_tick_fires_once(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report"))
    cron = create_cron(tenant, "Report", "* * * * *")
    an_hour_later = cron.next_fire_at + timedelta(hours=1, seconds=20)

    first_missed = cron.next_fire_at

    assert fire_due_crons(an_hour_later) == 1
    assert fire_due_crons(an_hour_later + timedelta(seconds=30)) == 0

    cron.refresh_from_db()
    assert cron.next_fire_at == an_hour_later.replace(second=0) + timedelta(minutes=1)
    [run] = WorkflowRun.objects.all()
    # Fired late, for the first tick it missed: the run says which.
    assert run.fire_time == first_missed


def test_a_paused_cron_does_not_fire_and_resumes_from_now(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report"))
    cron = create_cron(tenant, "Report", "* * * * * *")
    pause_cron(tenant, cron.pk)

    assert fire_due_crons(cron.next_fire_at + timedelta(minutes=5)) == 0

    resumed = resume_cron(tenant, cron.pk)
    assert resumed.next_fire_at > datetime.now(UTC)
    assert not resumed.is_paused


def test_named_crons_are_unique_per_workflow(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report"))
    create_cron(tenant, "Report", "@daily", name="nightly")

    with pytest.raises(Conflict, match="already has a cron named 'nightly'"):
        create_cron(tenant, "Report", "@hourly", name="nightly")


def test_only_api_crons_can_be_deleted(tenant: Tenant, other_tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report", on_crons=["@daily"]))
    declared = CronTrigger.objects.get()
    created = create_cron(tenant, "Report", "@hourly")

    with pytest.raises(Conflict, match="declared in the workflow's definition"):
        delete_cron(tenant, declared.pk)
    with pytest.raises(Exception, match="Cron not found"):
        delete_cron(other_tenant, created.pk)
    delete_cron(tenant, created.pk)

    assert list(CronTrigger.objects.all()) == [declared]
