"""Rate limits: a step's attempts take units of named or dynamic limits as they are
assigned; those whose units are not free go back to the queue until they are, and
never fail for it."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from hatchet.db import pipelined
from hatchet.errors import InvalidDefinition
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.maintenance import time_out_queued_step_runs
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.rate_limits import forget_spent_uses, put_rate_limit
from workflows.engine.runs import trigger_workflow_run
from workflows.models import RateLimit, RateLimitUse, StepRun, StepRunAttempt, WorkflowRun

pytestmark = pytest.mark.django_db

WORKER = uuid.UUID("00000000-0000-4000-8000-000000000004")


def limited(tenant: Tenant, name: str = "Limited", **rate_limit: Any) -> None:
    step = {"name": "work", "rate_limits": [rate_limit or {"key": "llm"}]}
    register_workflow(tenant, definition(name, [step]))


def claim(tenant: Tenant, *names: str, slots: int = 10) -> list[Assignment]:
    return claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=WORKER,
        worker_name="w",
        actions=[f"{name}:work" for name in names or ("Limited",)],
        slots=slots,
    )


def step_run_of(run: WorkflowRun) -> StepRun:
    return StepRun.objects.get(workflow_run=run)


def age_uses(seconds: float) -> None:
    """Move every use `seconds` into the past, and what waits for them to now."""
    for use in RateLimitUse.objects.all():
        use.used_at -= timedelta(seconds=seconds)
        use.save()
    StepRun.objects.filter(status="QUEUED").update(available_at=timezone.now())


def test_a_step_takes_units_until_the_limit_and_the_rest_wait_queued(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 3, "minute")
    limited(tenant)
    runs = [trigger_workflow_run(tenant, "Limited", {}) for _ in range(5)]

    assigned = claim(tenant)

    assert [a.workflow_run_id for a in assigned] == [run.pk for run in runs[:3]]
    assert sum(RateLimitUse.objects.values_list("units", flat=True)) == 3
    first_use = RateLimitUse.objects.earliest("used_at").used_at
    for run in runs[3:]:
        waiting = step_run_of(run)
        assert (waiting.status, waiting.attempt, waiting.worker_id) == ("QUEUED", 0, None)
        assert waiting.available_at == first_use + timedelta(minutes=1)
        assert waiting.deadline == waiting.available_at + timedelta(
            seconds=waiting.step.schedule_timeout_seconds
        )
        assert not StepRunAttempt.objects.filter(step_run=waiting).exists()
    assert claim(tenant) == []

    age_uses(61)

    assert [a.workflow_run_id for a in claim(tenant)] == [run.pk for run in runs[3:]]


def test_a_full_limit_is_met_in_a_reports_refill(tenant: Tenant) -> None:
    """A worker's report refills its slots in one pipelined transaction (psycopg's
    pipeline mode refuses server-side cursors: every report of the e2e run failed)."""
    put_rate_limit(tenant.id, "llm", 1, "minute")
    limited(tenant)
    runs = [trigger_workflow_run(tenant, "Limited", {}) for _ in range(2)]

    with transaction.atomic(), pipelined():
        assigned = claim(tenant)

    assert [a.workflow_run_id for a in assigned] == [runs[0].pk]
    assert step_run_of(runs[1]).status == "QUEUED"


def test_units_free_partway_through_the_window_let_that_many_go(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 2, "minute")
    limited(tenant)
    runs = [trigger_workflow_run(tenant, "Limited", {}) for _ in range(4)]
    [older, newer] = [a.step_run_id for a in claim(tenant)]
    RateLimitUse.objects.filter(step_run_id=older).update(
        used_at=timezone.now() - timedelta(seconds=61)
    )
    StepRun.objects.filter(status="QUEUED").update(available_at=timezone.now())

    assert [a.workflow_run_id for a in claim(tenant)] == [runs[2].pk]
    assert step_run_of(runs[3]).available_at == RateLimitUse.objects.get(
        step_run_id=newer
    ).used_at + timedelta(minutes=1)


def test_a_waiting_step_never_times_out_for_the_limit(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 1, "hour")
    register_workflow(
        tenant,
        definition(
            "Limited",
            [{"name": "work", "schedule_timeout": "1s", "rate_limits": [{"key": "llm"}]}],
        ),
    )
    trigger_workflow_run(tenant, "Limited", {})
    waiting = trigger_workflow_run(tenant, "Limited", {})
    claim(tenant)

    assert time_out_queued_step_runs(timezone.now() + timedelta(minutes=59)) == 0
    assert step_run_of(waiting).status == "QUEUED"


def test_a_step_waits_for_a_limit_nobody_defined_until_it_is(tenant: Tenant) -> None:
    limited(tenant)
    run = trigger_workflow_run(tenant, "Limited", {})

    assert claim(tenant) == []
    assert step_run_of(run).status == "QUEUED"

    put_rate_limit(tenant.id, "llm", 1, "second")
    StepRun.objects.filter(status="QUEUED").update(available_at=timezone.now())
    assert [a.workflow_run_id for a in claim(tenant)] == [run.pk]


def test_a_dynamic_key_makes_one_limit_per_value(tenant: Tenant) -> None:
    limited(tenant, dynamic_key="input.user", limit=1, period="minute")
    ann_first, ann_second, bob = (
        trigger_workflow_run(tenant, "Limited", {"user": who}) for who in ("ann", "ann", "bob")
    )

    assert [a.workflow_run_id for a in claim(tenant)] == [ann_first.pk, bob.pk]
    assert step_run_of(ann_second).status == "QUEUED"
    assert sorted(RateLimit.objects.values_list("key", "limit", "period", "dynamic")) == [
        ("ann", 1, 60, True),
        ("bob", 1, 60, True),
    ]


def test_units_from_the_input_fit_what_is_left(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "tokens", 10, "minute")
    limited(tenant, key="tokens", units="input.tokens")
    runs = [trigger_workflow_run(tenant, "Limited", {"tokens": n}) for n in (6, 5, 4)]

    assert [a.workflow_run_id for a in claim(tenant)] == [runs[0].pk, runs[2].pk]
    assert step_run_of(runs[1]).status == "QUEUED"


def test_units_that_are_no_count_fail_the_step_with_the_reason(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    put_rate_limit(tenant.id, "tokens", 10, "minute")
    limited(tenant, key="tokens", units="input.tokens")
    run = trigger_workflow_run(tenant, "Limited", {"tokens": "many"})

    with django_capture_on_commit_callbacks(execute=True):
        assert claim(tenant) == []

    run.refresh_from_db()
    assert run.status == "FAILED"
    assert step_run_of(run).error == (
        'Rate limit units at input.tokens must be an integer from 1 to 1000000, not "many".'
    )


def test_the_slots_a_full_limit_gave_back_take_other_work(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 1, "minute")
    limited(tenant)
    register_workflow(tenant, definition("Plain", [{"name": "work"}]))
    limited_runs = [trigger_workflow_run(tenant, "Limited", {}) for _ in range(2)]
    plain = trigger_workflow_run(tenant, "Plain", {})

    assigned = claim(tenant, "Limited", "Plain", slots=2)

    assert [a.workflow_run_id for a in assigned] == [limited_runs[0].pk, plain.pk]


def test_a_lower_limit_holds_back_until_the_window_fits_under_it(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 5, "minute")
    limited(tenant)
    for _ in range(3):
        trigger_workflow_run(tenant, "Limited", {})
    assert len(claim(tenant)) == 3

    rate_limit, created = put_rate_limit(tenant.id, "llm", 2, "minute")
    trigger_workflow_run(tenant, "Limited", {})

    assert not created
    assert (rate_limit.limit, rate_limit.period) == (2, 60)
    assert claim(tenant) == []


def test_uses_out_of_their_window_are_forgotten(tenant: Tenant) -> None:
    put_rate_limit(tenant.id, "llm", 5, "second")
    put_rate_limit(tenant.id, "daily", 5, "day")
    limited(tenant)
    limited(tenant, "Daily", key="daily")
    trigger_workflow_run(tenant, "Limited", {})
    trigger_workflow_run(tenant, "Daily", {})
    claim(tenant, "Limited", "Daily")
    later = timezone.now() + timedelta(seconds=2)

    assert forget_spent_uses(later) == 1
    assert list(RateLimitUse.objects.values_list("rate_limit__key", flat=True)) == ["daily"]


@pytest.mark.parametrize(
    ("rate_limit", "message"),
    [
        ({"key": "a", "dynamic_key": "input.a"}, "name either a key or a dynamic_key"),
        ({}, "name either a key or a dynamic_key"),
        ({"key": "a", "limit": 3}, "limit and period belong to a dynamic_key"),
        ({"dynamic_key": "user", "limit": 1, "period": "minute"}, "dynamic_key must be a path"),
        ({"dynamic_key": "input.user", "period": "minute"}, "a dynamic_key needs a limit"),
        ({"dynamic_key": "input.user", "limit": 1, "period": "week"}, "needs a period"),
        ({"key": "a", "units": 0}, "units must be an integer from 1"),
        ({"key": "a", "units": "tokens"}, "units must be a count or a path"),
        ({"key": "a", "weight": 1}, "unknown field(s): weight"),
        ({"key": ""}, "key must be a name of 1 to 255 characters"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_reason(
    tenant: Tenant, rate_limit: dict[str, Any], message: str
) -> None:
    step = {"name": "work", "rate_limits": [rate_limit]}
    with pytest.raises(InvalidDefinition) as refused:
        register_workflow(tenant, definition("Limited", [step]))
    assert message in refused.value.message
    assert refused.value.message.startswith("Step 'work': rate_limits[0]: ")
