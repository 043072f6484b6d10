"""The claim of queued step runs, as each database runs it: the one-statement claim on
PostgreSQL, the ORM's on SQLite; the ORM's runs on PostgreSQL too, so that both are
held to the same stories on the database they share. (Races: test_claim_races.py.)"""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine import queue
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.results import record_step_completed
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, StepRunAttempt, WorkflowRun

pytestmark = pytest.mark.django_db

WORKER = uuid.UUID("00000000-0000-4000-8000-000000000002")


@pytest.fixture(params=["claim_in_one_statement", "claim_with_orm"])
def claim_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "claim_in_one_statement" and connection.vendor != "postgresql":
        pytest.skip("one statement of PostgreSQL's SQL")
    chosen = getattr(queue, request.param)
    monkeypatch.setattr(queue, "claim_of_this_database", lambda: chosen)
    return str(request.param)


def claim(tenant: Tenant, actions: list[str], slots: int = 10) -> list[Assignment]:
    return claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=WORKER, worker_name="w", actions=actions, slots=slots
    )


@pytest.mark.usefixtures("claim_kind")
def test_a_claim_assigns_the_oldest_step_runs_and_says_all_a_worker_needs(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Two", [{"name": "a", "timeout": "30s"}, {"name": "b"}]))
    older = trigger_workflow_run(
        tenant,
        "Two",
        {"n": 1},
        additional_metadata={"m": 1},
        overrides={"a": {"prompt": "hi"}},
    )
    trigger_workflow_run(tenant, "Two", {"n": 2})
    before = timezone.now()

    [assignment] = claim(tenant, ["Two:a"], slots=1)

    step_run = StepRun.objects.get(workflow_run=older, step__name="a")
    assert assignment == Assignment(
        step_run_id=step_run.pk,
        workflow_run_id=older.pk,
        attempt=1,
        retry_count=0,
        action="Two:a",
        workflow="Two",
        step="a",
        input={"n": 1},
        parents={},
        overrides={"prompt": "hi"},
        timeout_seconds=30.0,
        metadata={"m": 1},
        schedule_timeout_seconds=300.0,
    )
    assert (step_run.status, step_run.worker_id, step_run.attempt) == ("ASSIGNED", WORKER, 1)
    assert step_run.deadline is not None
    assert step_run.deadline >= before + timedelta(seconds=15)
    [attempt] = StepRunAttempt.objects.filter(step_run=step_run).values(
        "number", "status", "worker_id", "worker_name", "error", "traceback"
    )
    assert attempt == {
        "number": 1,
        "status": "ASSIGNED",
        "worker_id": WORKER,
        "worker_name": "w",
        "error": "",
        "traceback": "",
    }


@pytest.mark.usefixtures("claim_kind")
def test_a_claim_never_exceeds_the_free_slots(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    for _ in range(5):
        trigger_workflow_run(tenant, "One", {})

    first = claim(tenant, ["One:only"], slots=2)
    second = claim(tenant, ["One:only"], slots=2)
    record_step_completed(tenant.id, first[0].step_run_id, 1, WORKER, {})
    third = claim(tenant, ["One:only"], slots=2)

    assert (len(first), len(second), len(third)) == (2, 0, 1)
    assert StepRun.objects.filter(status="QUEUED").count() == 2


@pytest.mark.usefixtures("claim_kind")
def test_a_claim_takes_only_its_tenants_actions_that_are_due(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    for owner in (tenant, other_tenant):
        register_workflow(owner, definition("Two", [{"name": "a"}, {"name": "b"}]))
        trigger_workflow_run(owner, "Two", {})
    later = trigger_workflow_run(tenant, "Two", {})
    StepRun.objects.filter(workflow_run=later).update(
        available_at=timezone.now() + timedelta(minutes=1)
    )

    claimed = claim(tenant, ["Two:a"])

    due = WorkflowRun.objects.get(tenant=tenant, pk__in=[a.workflow_run_id for a in claimed])
    assert [(a.workflow_run_id, a.step) for a in claimed] == [(due.pk, "a")]
    assert due.pk != later.pk
    assert claim(tenant, ["Two:a"]) == []


@pytest.mark.usefixtures("claim_kind")
def test_nothing_to_claim_writes_nothing(tenant: Tenant) -> None:
    assert claim(tenant, ["Nothing:here"]) == []
    assert claim(tenant, []) == []
    assert not StepRunAttempt.objects.exists()


@pytest.mark.usefixtures("claim_kind")
def test_urgent_steps_go_first_across_workflows_until_the_others_waited_long_enough(
    tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_PRIORITY_AGING = 60.0
    register_workflow(tenant, definition("Batch", [{"name": "work"}]))
    register_workflow(tenant, definition("Urgent", [{"name": "work"}], priority=4))
    actions = ["Batch:work", "Urgent:work"]

    def waited(run: WorkflowRun, seconds: float) -> None:
        """As if its step had been queued `seconds` ago."""
        earlier = timedelta(seconds=seconds)
        StepRun.objects.filter(workflow_run=run).update(
            available_at=F("available_at") - earlier, ranked_at=F("ranked_at") - earlier
        )

    # Priority 4 is three levels (three minutes) ahead of priority 1.
    batch_for_two_minutes = trigger_workflow_run(tenant, "Batch", {})
    waited(batch_for_two_minutes, 120)
    urgent = trigger_workflow_run(tenant, "Urgent", {})
    batch_for_four_minutes = trigger_workflow_run(tenant, "Batch", {})
    waited(batch_for_four_minutes, 240)
    # A trigger's priority overrides the workflow's.
    urgent_batch = trigger_workflow_run(tenant, "Batch", {}, priority=4)

    order = []
    for _ in range(4):
        [assignment] = claim(tenant, actions, slots=1)
        record_step_completed(tenant.id, assignment.step_run_id, 1, WORKER, {})
        order.append(assignment.workflow_run_id)

    assert order == [
        batch_for_four_minutes.pk,
        urgent.pk,
        urgent_batch.pk,
        batch_for_two_minutes.pk,
    ]
    assert [r.priority for r in WorkflowRun.objects.order_by("created_at")] == [1, 4, 1, 4]


def test_a_claim_without_constrained_or_rate_limited_steps_is_one_statement(
    tenant: Tenant,
) -> None:
    """The hot path: labels, sticky runs, step keys and rate limits cost a claim nothing
    while none of their step runs is queued (the constrained look is cached)."""
    if connection.vendor != "postgresql":
        pytest.skip("one statement of PostgreSQL's SQL")
    register_workflow(tenant, definition("Plain", [{"name": "a"}]))
    for _ in range(2):
        trigger_workflow_run(tenant, "Plain", {})
    claim(tenant, ["Plain:a"], slots=1)

    with CaptureQueriesContext(connection) as statements:
        assert len(claim(tenant, ["Plain:a"], slots=2)) == 1

    assert len(statements) == 1, [s["sql"][:80] for s in statements]


def test_a_claim_reads_each_actions_queue_only_as_far_as_the_free_slots(tenant: Tenant) -> None:
    """A deep queue costs a claim nothing: each action's step runs are read in rank order
    from the index and the read stops at the free slots, instead of every queued step run
    being read and sorted at each claim."""
    if connection.vendor != "postgresql":
        pytest.skip("one statement of PostgreSQL's SQL")
    register_workflow(tenant, definition("Deep", [{"name": "a"}]))
    register_workflow(tenant, definition("Other", [{"name": "b"}]))
    for _ in range(40):
        trigger_workflow_run(tenant, "Deep", {})
        trigger_workflow_run(tenant, "Other", {})
    now = timezone.now()
    params: dict[str, Any] = {
        "tenant": tenant.id,
        "actions": ["Deep:a", "Other:b"],
        "now": now,
        "slots": 3,
        "worker": WORKER,
        "slot_lock": queue.slot_lock_key(WORKER),
        "worker_name": "w",
        "deadline": now + timedelta(seconds=30),
    }

    with connection.cursor() as cursor:
        # As with a big table: the planner would read a small one whole, either way.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {queue.CLAIM_SQL}", params)
        [[[plan]]] = cursor.fetchall()

    def ranked_index_reads(node: dict[str, Any]) -> int:
        own = node["Actual Rows"] * node["Actual Loops"]
        return (own if node.get("Index Name") == "step_run_ranked" else 0) + sum(
            ranked_index_reads(child) for child in node.get("Plans", [])
        )

    assert ranked_index_reads(plan["Plan"]) <= 2 * 3
    assert StepRun.objects.filter(status="ASSIGNED").count() == 3
