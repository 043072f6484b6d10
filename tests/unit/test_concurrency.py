"""Concurrency keys: at most max_runs runs per key go at once, with each strategy;
keys shared by workflows of one scope; waiting runs go on as the key's runs finish."""

import uuid
from typing import Any

import pytest

from hatchet.errors import InvalidDefinition
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine import results
from workflows.engine.concurrency import settle_waiting_keys
from workflows.engine.definitions import register_workflow
from workflows.engine.pausing import set_paused
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.runs import RunRequest, trigger_workflow_run, trigger_workflow_runs
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db

WORKER = uuid.UUID("00000000-0000-4000-8000-000000000003")


def limited(tenant: Tenant, name: str = "Limited", **concurrency: Any) -> None:
    config = {"key": "input.customer", "max_runs": 2, **concurrency}
    register_workflow(tenant, definition(name, [{"name": "work"}], concurrency=config))


def customer(tenant: Tenant, who: Any, name: str = "Limited") -> WorkflowRun:
    return trigger_workflow_run(tenant, name, {"customer": who})


def states(*runs: WorkflowRun) -> list[tuple[str, str]]:
    fresh = {run.pk: run for run in WorkflowRun.objects.filter(pk__in=[r.pk for r in runs])}
    return [(fresh[run.pk].status, fresh[run.pk].waiting_for) for run in runs]


GOING = ("PENDING", "")
WAITING = ("PENDING", "concurrency")


def finish(tenant: Tenant, run: WorkflowRun) -> None:
    """Run its step to success on a worker of its own."""
    worker = uuid.uuid4()
    [assignment] = [
        a
        for a in claim_queued_step_runs(
            tenant_id=tenant.id,
            worker_id=worker,
            worker_name="w",
            actions=[f"{run.workflow.name}:work"],
            slots=100,
        )
        if a.workflow_run_id == run.pk
    ]
    ref = (tenant.id, assignment.step_run_id, assignment.attempt, worker)
    assert results.record_step_started(*ref)
    assert results.record_step_completed(*ref, {})


def test_runs_beyond_a_keys_max_wait_their_turn_and_other_keys_go_at_once(
    tenant: Tenant,
) -> None:
    limited(tenant)
    first, second, third, fourth = (customer(tenant, "ann") for _ in range(4))
    bob = customer(tenant, "bob")

    assert states(first, second, third, fourth, bob) == [GOING, GOING, WAITING, WAITING, GOING]
    assert first.concurrency_key == 'Limited:"ann"'
    assert set(third.step_runs.values_list("status", flat=True)) == {"PENDING"}

    finish(tenant, first)

    assert states(first, second, third, fourth) == [("SUCCEEDED", ""), GOING, GOING, WAITING]
    assert set(third.step_runs.values_list("status", flat=True)) == {"QUEUED"}


def test_a_bulk_trigger_admits_up_to_the_max_in_order(tenant: Tenant) -> None:
    limited(tenant, max_runs=3)

    runs = trigger_workflow_runs(tenant, "Limited", [RunRequest({"customer": 7})] * 5)

    assert states(*runs) == [GOING, GOING, GOING, WAITING, WAITING]


def test_cancel_in_progress_makes_room_for_the_newest(tenant: Tenant) -> None:
    limited(tenant, max_runs=1, strategy="CANCEL_IN_PROGRESS")
    old = customer(tenant, "ann")
    new = customer(tenant, "ann")

    assert states(old, new) == [("CANCELLED", ""), GOING]
    old.refresh_from_db()
    assert old.error == 'Cancelled: concurrency key Limited:"ann" (CANCEL_IN_PROGRESS).'
    assert set(old.step_runs.values_list("status", flat=True)) == {"CANCELLED"}


def test_cancel_newest_refuses_the_run_that_came_last(tenant: Tenant) -> None:
    limited(tenant, max_runs=1, strategy="CANCEL_NEWEST")
    old = customer(tenant, "ann")
    new = customer(tenant, "ann")
    finish(tenant, old)
    after = customer(tenant, "ann")

    assert states(old, new, after) == [("SUCCEEDED", ""), ("CANCELLED", ""), GOING]


def test_workflows_of_one_scope_share_the_limit_per_key(tenant: Tenant) -> None:
    limited(tenant, "Refund", max_runs=1, scope="customer")
    limited(tenant, "Charge", max_runs=1, scope="customer")
    refund = customer(tenant, 1, "Refund")
    charge = customer(tenant, 1, "Charge")
    other = customer(tenant, 2, "Charge")

    assert states(refund, charge, other) == [GOING, WAITING, GOING]
    assert charge.concurrency_key == "customer:1"

    finish(tenant, refund)

    assert states(charge) == [GOING]


def test_runs_without_the_key_share_the_null_key(tenant: Tenant) -> None:
    limited(tenant, max_runs=1)
    runs = [trigger_workflow_run(tenant, "Limited", {}) for _ in range(2)]

    assert states(*runs) == [GOING, WAITING]
    assert runs[0].concurrency_key == "Limited:null"


def test_a_resume_lets_each_key_decide(tenant: Tenant) -> None:
    limited(tenant, max_runs=1)
    set_paused(tenant, "Limited", paused=True)
    held = [customer(tenant, "ann"), customer(tenant, "ann"), customer(tenant, "bob")]
    assert states(*held) == [("PENDING", "resume")] * 3

    set_paused(tenant, "Limited", paused=False)

    assert states(*held) == [GOING, WAITING, GOING]


def test_the_tick_settles_each_key_with_waiting_runs_once(tenant: Tenant) -> None:
    limited(tenant, max_runs=1)
    going, *waiting = [customer(tenant, "ann") for _ in range(3)]
    assert states(going, *waiting) == [GOING, WAITING, WAITING]

    assert settle_waiting_keys() == 1
    assert states(going, *waiting) == [GOING, WAITING, WAITING]


def test_the_tick_settles_a_key_left_with_room(tenant: Tenant) -> None:
    limited(tenant, max_runs=1)
    run = customer(tenant, "ann")
    WorkflowRun.objects.filter(pk=run.pk).update(waiting_for="concurrency")

    assert settle_waiting_keys() == 1
    assert states(run) == [GOING]


@pytest.mark.parametrize(
    ("concurrency", "message"),
    [
        ({"key": "customer"}, "concurrency.key must be a path into the run's input"),
        ({"key": "input.c", "max_runs": 0}, "concurrency.max_runs must be an integer from 1"),
        ({"key": "input.c", "strategy": "FIFO"}, "concurrency.strategy must be one of"),
        ({"key": "input.c", "colour": 1}, "concurrency has unknown field(s): colour."),
    ],
)
def test_a_bad_concurrency_is_refused(tenant: Tenant, concurrency: Any, message: str) -> None:
    with pytest.raises(InvalidDefinition, match=message.replace("(", r"\(").replace(")", r"\)")):
        register_workflow(tenant, definition("Bad", [{"name": "w"}], concurrency=concurrency))


def step_limited(tenant: Tenant, name: str = "StepLimited", **concurrency: Any) -> None:
    config = {"key": "input.customer", "max_runs": 1, **concurrency}
    step = {"name": "work", "concurrency": config}
    register_workflow(tenant, definition(name, [step]))


def test_a_steps_key_holds_its_max_with_workers_and_the_rest_wait_queued(
    tenant: Tenant,
) -> None:
    step_limited(tenant)
    first, second = (trigger_workflow_run(tenant, "StepLimited", {"customer": "ann"}) for _ in "12")
    bob = trigger_workflow_run(tenant, "StepLimited", {"customer": "bob"})
    worker = uuid.uuid4()

    claimed = claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=worker,
        worker_name="w",
        actions=["StepLimited:work"],
        slots=9,
    )

    assert [a.workflow_run_id for a in claimed] == [first.pk, bob.pk]
    assert states(second) == [GOING]
    assert second.step_runs.get().concurrency_key == 'StepLimited.work:"ann"'
    [ann] = [a for a in claimed if a.workflow_run_id == first.pk]
    ref = (tenant.id, ann.step_run_id, ann.attempt, worker)
    assert results.record_step_started(*ref)
    assert results.record_step_completed(*ref, {})
    again = claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=worker,
        worker_name="w",
        actions=["StepLimited:work"],
        slots=9,
    )
    assert [a.workflow_run_id for a in again] == [second.pk]


def test_a_step_key_that_floods_the_queue_does_not_starve_another(tenant: Tenant) -> None:
    step_limited(tenant, max_runs=2)
    flood = trigger_workflow_runs(
        tenant, "StepLimited", [RunRequest(input={"customer": "flood"})] * 150
    )
    other = trigger_workflow_run(tenant, "StepLimited", {"customer": "other"})

    claimed = claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=uuid.uuid4(),
        worker_name="w",
        actions=["StepLimited:work"],
        slots=10,
    )

    assert [a.workflow_run_id for a in claimed] == [flood[0].pk, flood[1].pk, other.pk]


def test_steps_of_two_workflows_naming_one_scope_share_its_key(tenant: Tenant) -> None:
    step_limited(tenant, "Charge", scope="account")
    step_limited(tenant, "Refund", scope="account")
    charge = trigger_workflow_run(tenant, "Charge", {"customer": 7})
    trigger_workflow_run(tenant, "Refund", {"customer": 7})

    claimed = claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=uuid.uuid4(),
        worker_name="w",
        actions=["Charge:work", "Refund:work"],
        slots=10,
    )

    assert [a.workflow_run_id for a in claimed] == [charge.pk]


def test_a_step_waiting_for_its_key_says_so(api: Any, tenant: Tenant) -> None:
    step_limited(tenant)
    trigger_workflow_run(tenant, "StepLimited", {"customer": "ann"})
    waiting = trigger_workflow_run(tenant, "StepLimited", {"customer": "ann"})
    claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=uuid.uuid4(),
        worker_name="w",
        actions=["StepLimited:work"],
        slots=10,
    )

    reasons = api.get(f"/api/v1/runs/{waiting.pk}").json()["step_waiting_reasons"]

    assert list(reasons.values()) == [
        'Its step\'s concurrency key StepLimited.work:"ann" is full: 1 held by workers, '
        "0 waiting ahead of it."
    ]


def test_a_step_key_only_waits_its_turn(tenant: Tenant) -> None:
    with pytest.raises(InvalidDefinition, match="a step's concurrency waits its turn"):
        step_limited(tenant, strategy="CANCEL_NEWEST")
