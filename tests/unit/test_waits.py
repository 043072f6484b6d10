"""Why a run or a queued step of it waits, as its detail says."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import definition
from workers.models import Worker
from workflows.engine.definitions import register_workflow
from workflows.engine.pausing import set_paused
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.rate_limits import put_rate_limit
from workflows.engine.runs import trigger_workflow_run
from workflows.models import RateLimitUse, StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


def reasons(api: APIClient, run: WorkflowRun) -> tuple[str, list[str]]:
    detail = api.get(f"/api/v1/runs/{run.pk}").json()
    return detail["waiting_reason"], list(detail["step_waiting_reasons"].values())


def serving(tenant: Tenant, slots: int) -> Worker:
    return Worker.objects.create(
        tenant=tenant, name="box", actions=["One:only"], slots=slots, status="ACTIVE"
    )


def test_a_queued_step_says_whether_a_worker_serves_it_and_has_room(
    api: APIClient, tenant: Tenant
) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    first = trigger_workflow_run(tenant, "One", {})
    second = trigger_workflow_run(tenant, "One", {})

    assert reasons(api, first) == ("", ["No worker serves One:only: start one that registers One."])

    worker = serving(tenant, slots=1)
    assert reasons(api, first) == ("", ["Being assigned to a worker with a free slot."])

    claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=worker.id, worker_name="box", actions=["One:only"], slots=1
    )
    assert reasons(api, second) == (
        "",
        ["Every worker serving One:only is busy (1 worker, no free slot)."],
    )
    later = timezone.now() + timedelta(minutes=1)
    StepRun.objects.filter(workflow_run=second).update(available_at=later)
    assert reasons(api, second) == ("", [f"Waiting for its retry at {later.isoformat()}."])


def test_a_waiting_run_says_it_is_paused_or_how_many_are_ahead_on_its_key(
    api: APIClient, tenant: Tenant
) -> None:
    steps = [{"name": "only"}]
    register_workflow(tenant, definition("Paused", steps))
    register_workflow(
        tenant, definition("Keyed", steps, concurrency={"key": "input.c", "max_runs": 1})
    )
    set_paused(tenant, "Paused", paused=True)
    paused = trigger_workflow_run(tenant, "Paused", {})
    keyed = [trigger_workflow_run(tenant, "Keyed", {"c": 1}) for _ in range(3)]

    assert reasons(api, paused) == ("Paused is paused: this run starts when it resumes.", [])
    assert reasons(api, keyed[2])[0] == (
        "Its concurrency key Keyed:1 is full: 1 run going, 1 waiting ahead of this one."
    )
    assert reasons(api, keyed[0])[0] == ""


def test_a_triggers_answer_asks_no_worker_why_it_waits(api: APIClient, tenant: Tenant) -> None:
    """Its run has just been queued; asking the workers there cost every trigger a query
    after its commit, which a broken connection turned into a 500 (make test's chaos)."""
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    serving(tenant, slots=1)

    with CaptureQueriesContext(connection) as queries:
        answer = api.post("/api/v1/workflows/One/runs", {}, format="json").json()

    assert "step_waiting_reasons" not in answer
    assert not [q for q in queries.captured_queries if "workers_worker" in q["sql"]]


def test_a_step_held_back_by_a_rate_limit_says_which_and_when_it_frees(
    api: APIClient, tenant: Tenant
) -> None:
    step = {"name": "only", "rate_limits": [{"key": "llm", "units": 2}]}
    register_workflow(tenant, definition("One", [step]))
    first = trigger_workflow_run(tenant, "One", {})
    second = trigger_workflow_run(tenant, "One", {})
    worker = serving(tenant, slots=5)

    assert reasons(api, first) == (
        "",
        ["Rate limit 'llm' is not defined: put it for this step to run."],
    )

    put_rate_limit(tenant.id, "llm", 3, "minute")
    StepRun.objects.filter(status="QUEUED").update(available_at=timezone.now())
    claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=worker.id, worker_name="box", actions=["One:only"], slots=5
    )

    free_at = RateLimitUse.objects.get().used_at + timedelta(minutes=1)
    assert reasons(api, second) == (
        "",
        [
            "Rate limit 'llm' is full: 2 of 3 units taken in the last minute; 2 free at "
            f"{free_at.isoformat()}."
        ],
    )
