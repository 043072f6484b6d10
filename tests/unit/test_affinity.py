"""Steps that choose their worker: required and preferred labels with comparisons and
weights, labels changed while a worker runs, and sticky runs, soft and hard, across a
restart of their worker."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.errors import InvalidDefinition
from hatchet.models import Tenant
from tests.factories import definition
from workers.models import Worker, WorkerStatus
from workers.registry import set_labels
from workflows.engine import results
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


def worker(tenant: Tenant, name: str, actions: list[str], **labels: Any) -> Worker:
    return Worker.objects.create(
        tenant=tenant, name=name, actions=actions, slots=5, labels=labels, status="ACTIVE"
    )


def claim(tenant: Tenant, by: Worker) -> list[Assignment]:
    return claim_queued_step_runs(
        tenant_id=tenant.id,
        worker_id=by.id,
        worker_name=by.name,
        actions=by.actions,
        slots=by.slots,
    )


def one_step(tenant: Tenant, **desired: dict[str, Any]) -> None:
    step = {"name": "work", "desired_worker_labels": desired}
    register_workflow(tenant, definition("Picky", [step]))


def runs_of(assignments: list[Assignment]) -> list[Any]:
    return [a.workflow_run_id for a in assignments]


def wait_out_preferences() -> None:
    earlier = timezone.now() - timedelta(seconds=10)
    StepRun.objects.filter(status="QUEUED").update(available_at=earlier)


def test_a_required_label_keeps_a_step_off_workers_without_it(tenant: Tenant) -> None:
    one_step(tenant, gpu={"value": True, "required": True})
    cpu = worker(tenant, "cpu", ["Picky:work"], gpu=False)
    gpu = worker(tenant, "gpu", ["Picky:work"], gpu=True)
    run = trigger_workflow_run(tenant, "Picky", {})

    assert claim(tenant, cpu) == []
    wait_out_preferences()
    assert claim(tenant, cpu) == []
    assert runs_of(claim(tenant, gpu)) == [run.pk]


@pytest.mark.parametrize(
    ("want", "fits", "misfits"),
    [
        ({"value": 32, "comparator": ">="}, [32, 64, 32.5], [16, "64", True]),
        ({"value": 32, "comparator": "<"}, [16, 31.9], [32, 64]),
        ({"value": "eu", "comparator": "!="}, ["us", 1], ["eu"]),
        ({"value": 1}, [1, 1.0], [True, "1"]),
        ({"value": True}, [True], [1, "true"]),
    ],
)
def test_labels_compare_as_the_step_says(
    tenant: Tenant, want: dict[str, Any], fits: list[Any], misfits: list[Any]
) -> None:
    one_step(tenant, memory={**want, "required": True})
    for value in misfits:
        trigger_workflow_run(tenant, "Picky", {})
        assert claim(tenant, worker(tenant, f"no-{value!r}", ["Picky:work"], memory=value)) == []
        StepRun.objects.filter(status="QUEUED").delete()
    for value in fits:
        run = trigger_workflow_run(tenant, "Picky", {})
        matching = worker(tenant, f"yes-{value!r}", ["Picky:work"], memory=value)
        assert runs_of(claim(tenant, matching)) == [run.pk]


def test_a_preferred_label_goes_to_the_best_worker_first_then_to_any(tenant: Tenant) -> None:
    one_step(tenant, region={"value": "eu", "weight": 10}, ssd={"value": True, "weight": 90})
    us = worker(tenant, "us", ["Picky:work"], region="us")
    eu_ssd = worker(tenant, "eu-ssd", ["Picky:work"], region="eu", ssd=True)
    first = trigger_workflow_run(tenant, "Picky", {})
    second = trigger_workflow_run(tenant, "Picky", {})

    assert claim(tenant, us) == []
    assert runs_of(claim(tenant, eu_ssd)) == [first.pk, second.pk]

    third = trigger_workflow_run(tenant, "Picky", {})
    wait_out_preferences()
    assert runs_of(claim(tenant, us)) == [third.pk]


def test_a_preference_no_live_worker_meets_holds_nobody_back(tenant: Tenant) -> None:
    one_step(tenant, region={"value": "eu"})
    us = worker(tenant, "us", ["Picky:work"], region="us")
    worker(tenant, "eu-gone", ["Picky:work"], region="eu").delete()
    run = trigger_workflow_run(tenant, "Picky", {})

    assert runs_of(claim(tenant, us)) == [run.pk]


def test_labels_set_while_a_worker_runs_take_effect(tenant: Tenant) -> None:
    one_step(tenant, gpu={"value": True, "required": True})
    box = worker(tenant, "box", ["Picky:work"])
    run = trigger_workflow_run(tenant, "Picky", {})
    assert claim(tenant, box) == []

    set_labels(box.id, {"gpu": True})

    assert runs_of(claim(tenant, box)) == [run.pk]


def sticky(tenant: Tenant, mode: str) -> None:
    steps = [{"name": "a"}, {"name": "b", "parents": ["a"]}]
    register_workflow(tenant, definition("Sticky", steps, sticky=mode))


def finish_first_step(tenant: Tenant, on: Worker) -> WorkflowRun:
    run = trigger_workflow_run(tenant, "Sticky", {})
    [assignment] = claim(tenant, on)
    ref = (tenant.id, assignment.step_run_id, assignment.attempt, on.id)
    assert results.record_step_started(*ref)
    assert results.record_step_completed(*ref, {})
    return run


def test_a_hard_sticky_run_stays_on_its_worker_and_goes_to_its_restart(
    tenant: Tenant,
) -> None:
    sticky(tenant, "hard")
    actions = ["Sticky:a", "Sticky:b"]
    first = worker(tenant, "box-1", actions)
    other = worker(tenant, "box-2", actions)
    run = finish_first_step(tenant, first)

    wait_out_preferences()
    assert claim(tenant, other) == []

    Worker.objects.filter(pk=first.pk).update(status=WorkerStatus.STOPPED)
    assert claim(tenant, other) == []
    restarted = worker(tenant, "box-1", actions)
    assert [a.step for a in claim(tenant, restarted)] == ["b"]
    assert StepRun.objects.get(workflow_run=run, step__name="b").worker_id == restarted.id


def test_a_soft_sticky_run_prefers_its_worker_and_goes_elsewhere_after_a_wait(
    tenant: Tenant,
) -> None:
    sticky(tenant, "soft")
    actions = ["Sticky:a", "Sticky:b"]
    first = worker(tenant, "box-1", actions)
    other = worker(tenant, "box-2", actions)
    finish_first_step(tenant, first)

    assert claim(tenant, other) == []
    wait_out_preferences()
    assert [a.step for a in claim(tenant, other)] == ["b"]


def test_a_step_no_live_worker_may_take_says_why(api: APIClient, tenant: Tenant) -> None:
    one_step(
        tenant,
        gpu={"value": True, "required": True},
        memory={"value": 8, "comparator": ">=", "required": True},
    )
    worker(tenant, "cpu", ["Picky:work"])
    run = trigger_workflow_run(tenant, "Picky", {})

    reasons = api.get(f"/api/v1/runs/{run.pk}").json()["step_waiting_reasons"]

    assert list(reasons.values()) == [
        "No live worker serving Picky:work has the labels it requires: gpu = true, memory >= 8."
    ]


def test_a_hard_sticky_run_whose_worker_is_gone_says_so(api: APIClient, tenant: Tenant) -> None:
    sticky(tenant, "hard")
    actions = ["Sticky:a", "Sticky:b"]
    first = worker(tenant, "box-1", actions)
    worker(tenant, "box-2", actions)
    run = finish_first_step(tenant, first)
    Worker.objects.filter(pk=first.pk).update(status=WorkerStatus.STOPPED)

    reasons = api.get(f"/api/v1/runs/{run.pk}").json()["step_waiting_reasons"]

    assert list(reasons.values()) == [
        "Its run sticks to worker box-1, which is gone: it waits for a worker of that name."
    ]


@pytest.mark.parametrize(
    ("desired", "message"),
    [
        ({"gpu": True}, "label 'gpu' must be an object"),
        ({"gpu": {}}, "label 'gpu' needs a value"),
        ({"gpu": {"value": [1]}}, "label 'gpu' needs a value"),
        ({"mem": {"value": 1, "comparator": "~"}}, "comparator must be one of"),
        ({"mem": {"value": "a", "comparator": ">"}}, "> compares numbers only"),
        ({"mem": {"value": 1, "weight": 0}}, "weight must be an integer from 1"),
        ({"mem": {"value": 1, "required": "yes"}}, "required must be true or false"),
        ({"mem": {"value": 1, "prefer": True}}, "unknown field(s): prefer"),
    ],
)
def test_a_bad_label_wish_is_refused_with_the_reason(
    tenant: Tenant, desired: dict[str, Any], message: str
) -> None:
    step = {"name": "work", "desired_worker_labels": desired}
    with pytest.raises(InvalidDefinition) as refused:
        register_workflow(tenant, definition("Picky", [step]))
    assert message in refused.value.message


def test_sticky_is_soft_or_hard(tenant: Tenant) -> None:
    with pytest.raises(InvalidDefinition, match="sticky must be 'soft' or 'hard'"):
        register_workflow(tenant, definition("Sticky", [{"name": "a"}], sticky="always"))
