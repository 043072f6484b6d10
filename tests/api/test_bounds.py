"""Every duration and time the server takes is bounded, and what is out of range is
refused where it is registered, with its place (issue 17, item 12): a step timeout of
10^30 s was taken and then broke every start of that step; a schedule in year 9999
was taken."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from hatchet.wire.durations import MAX_DURATION, MAX_SCHEDULE_AHEAD
from tests.factories import ScriptedWorker, definition, register, start_run
from workflows.models import ScheduledRun, StepRunStatus, Workflow

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 30 + "s"
TOO_LONG = f"{MAX_DURATION.days + 1}d"


@pytest.mark.parametrize(
    ("fields", "step", "message", "field", "value"),
    [
        ({}, {"timeout": HUGE}, "Step 'a': timeout", "steps[0].timeout", HUGE),
        (
            {},
            {"schedule_timeout": TOO_LONG},
            "Step 'a': schedule_timeout",
            "steps[0].schedule_timeout",
            TOO_LONG,
        ),
        (
            {},
            {"backoff": {"max": TOO_LONG}},
            "Step 'a': backoff max",
            "steps[0].backoff.max",
            TOO_LONG,
        ),
        ({"timeout": TOO_LONG}, {}, "timeout", "timeout", TOO_LONG),
        ({"schedule_timeout": HUGE}, {}, "schedule_timeout", "schedule_timeout", HUGE),
    ],
)
def test_a_duration_over_the_bound_is_refused_at_registration(
    api: APIClient,
    fields: dict[str, Any],
    step: dict[str, Any],
    message: str,
    field: str,
    value: str,
) -> None:
    body = definition("Long", [{"name": "a", "parents": [], **step}], **fields)

    response = api.post("/api/v1/workflows", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_definition",
            "message": f"{message}: duration {value!r} is too long: at most {MAX_DURATION.days}d",
            "details": {"value": value, "field": field},
        }
    }
    assert not Workflow.objects.exists()


def test_a_step_with_the_longest_timeout_starts(tenant: Tenant) -> None:
    register(tenant, "Long", steps=[{"name": "a", "parents": [], "timeout": "365d"}])
    start_run(tenant, "Long")

    step_run = ScriptedWorker(tenant).start("Long:a")
    step_run.refresh_from_db()
    assert step_run.status == StepRunStatus.RUNNING
    assert step_run.deadline is not None
    assert step_run.deadline - timezone.now() > MAX_DURATION - timedelta(minutes=1)


def test_a_schedule_too_far_ahead_is_refused(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Report")
    at = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)

    response = api.post(
        "/api/v1/schedules", {"workflow": "Report", "trigger_at": at.isoformat()}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(
        f"trigger_at {at.isoformat()} is too far ahead: at most {MAX_SCHEDULE_AHEAD.days} days"
    )
    assert error["details"]["trigger_at"] == at.isoformat()
    assert not ScheduledRun.objects.exists()


def test_a_reschedule_too_far_ahead_is_refused_and_one_within_is_taken(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, "Report")
    soon = (timezone.now() + timedelta(minutes=5)).isoformat()
    created = api.post(
        "/api/v1/schedules", {"workflow": "Report", "trigger_at": soon}, format="json"
    ).json()
    within = timezone.now() + MAX_SCHEDULE_AHEAD - timedelta(days=1)
    beyond = timezone.now() + MAX_SCHEDULE_AHEAD + timedelta(days=1)

    refused = api.patch(
        f"/api/v1/schedules/{created['id']}", {"trigger_at": beyond.isoformat()}, format="json"
    )
    taken = api.patch(
        f"/api/v1/schedules/{created['id']}", {"trigger_at": within.isoformat()}, format="json"
    )

    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_request")
    assert taken.status_code == 200
    assert ScheduledRun.objects.get().trigger_at == within
