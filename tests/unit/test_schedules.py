"""One-off schedules: created in the future only, rescheduled, cancelled, fired once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest, NotFound
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.schedules import (
    cancel_scheduled_run,
    fire_due_schedules,
    reschedule_run,
    schedule_run,
)
from workflows.models import ScheduledRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def soon(tenant: Tenant) -> ScheduledRun:
    register_workflow(tenant, definition("Report"))
    return schedule_run(tenant, "Report", timezone.now() + timedelta(minutes=5), input={"week": 12})


@pytest.mark.usefixtures("tenant")
def test_a_schedule_fires_once_at_its_time(soon: ScheduledRun) -> None:
    assert fire_due_schedules(soon.trigger_at - timedelta(seconds=1)) == 0
    assert fire_due_schedules(soon.trigger_at) == 1
    assert fire_due_schedules(soon.trigger_at + timedelta(hours=1)) == 0

    [run] = WorkflowRun.objects.all()
    assert (run.trigger, run.scheduled_run_id, run.input) == ("schedule", soon.pk, {"week": 12})
    assert run.fire_time == soon.trigger_at
    soon.refresh_from_db()
    assert (soon.status, soon.fired_at) == ("FIRED", soon.trigger_at)


def test_a_time_in_the_past_is_refused(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report"))

    with pytest.raises(InvalidRequest, match="is in the past"):
        schedule_run(tenant, "Report", timezone.now() - timedelta(seconds=5))
    with pytest.raises(InvalidRequest, match="with its time zone"):
        schedule_run(tenant, "Report", datetime(2999, 1, 1))
    assert not ScheduledRun.objects.exists()


def test_rescheduling_moves_the_time(tenant: Tenant, soon: ScheduledRun) -> None:
    later = timezone.now() + timedelta(hours=2)

    reschedule_run(tenant, soon.pk, later)

    assert fire_due_schedules(soon.trigger_at) == 0
    assert fire_due_schedules(later) == 1


def test_a_cancelled_schedule_never_fires(tenant: Tenant, soon: ScheduledRun) -> None:
    cancel_scheduled_run(tenant, soon.pk)

    assert fire_due_schedules(soon.trigger_at) == 0
    assert ScheduledRun.objects.get().status == "CANCELLED"


def test_a_fired_schedule_can_be_neither_cancelled_nor_moved(
    tenant: Tenant, soon: ScheduledRun
) -> None:
    fire_due_schedules(soon.trigger_at)

    with pytest.raises(Conflict, match=r"Cannot cancel a schedule that is FIRED\."):
        cancel_scheduled_run(tenant, soon.pk)
    with pytest.raises(Conflict, match=r"Cannot reschedule a schedule that is FIRED\."):
        reschedule_run(tenant, soon.pk, datetime.now(UTC) + timedelta(hours=1))


def test_other_tenants_cannot_touch_a_schedule(other_tenant: Tenant, soon: ScheduledRun) -> None:
    with pytest.raises(NotFound):
        cancel_scheduled_run(other_tenant, soon.pk)
    assert ScheduledRun.objects.get().status == "SCHEDULED"
