"""Idempotency keys on run triggers and event pushes: a retry within the window gets
what the first call made; a key after the window, or another key, makes anew."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hatchet.errors import Conflict
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.events import NewEvent, push_events
from workflows.engine.idempotency import forget_spent_keys
from workflows.engine.runs import RunRequest, trigger_workflow_run, trigger_workflow_runs
from workflows.models import Event, IdempotencyKey, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def workflows(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Charge", [{"name": "work"}], on_events=["paid"]))
    register_workflow(tenant, definition("Refund", [{"name": "work"}]))


def test_a_retried_trigger_gets_the_run_the_first_started(tenant: Tenant) -> None:
    first = trigger_workflow_run(tenant, "Charge", {"n": 1}, idempotency_key="order-7")
    again = trigger_workflow_run(tenant, "Charge", {"n": 2}, idempotency_key="order-7")
    other = trigger_workflow_run(tenant, "Charge", {"n": 3}, idempotency_key="order-8")

    assert again.pk == first.pk
    assert again.input == {"n": 1}
    assert [step_run.step.name for step_run in again.step_runs.all()] == ["work"]
    assert other.pk != first.pk
    assert WorkflowRun.objects.count() == 2


def test_a_bulk_trigger_answers_earlier_keys_in_place(tenant: Tenant) -> None:
    earlier = trigger_workflow_run(tenant, "Charge", {}, idempotency_key="b")

    runs = trigger_workflow_runs(
        tenant,
        "Charge",
        [
            RunRequest({"i": 0}, idempotency_key="a"),
            RunRequest({"i": 1}, idempotency_key="b"),
            RunRequest({"i": 2}),
        ],
    )

    assert runs[1].pk == earlier.pk
    assert [run.input for run in runs] == [{"i": 0}, {}, {"i": 2}]
    assert WorkflowRun.objects.count() == 3
    assert IdempotencyKey.objects.get(key="a").run_id == runs[0].pk


def test_items_of_a_batch_naming_one_key_get_one_run(tenant: Tenant) -> None:
    runs = trigger_workflow_runs(
        tenant,
        "Charge",
        [RunRequest({"i": 0}, idempotency_key="a"), RunRequest({"i": 1}, idempotency_key="a")],
    )

    assert runs[0].pk == runs[1].pk
    assert WorkflowRun.objects.get().input == {"i": 0}


def test_a_key_that_started_another_workflows_run_is_a_conflict(tenant: Tenant) -> None:
    trigger_workflow_run(tenant, "Charge", {}, idempotency_key="k")

    with pytest.raises(Conflict, match="started a run of Charge, not of Refund"):
        trigger_workflow_run(tenant, "Refund", {}, idempotency_key="k")
    assert WorkflowRun.objects.count() == 1


def test_a_key_after_its_window_starts_a_new_run(tenant: Tenant) -> None:
    first = trigger_workflow_run(tenant, "Charge", {}, idempotency_key="k")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))

    later = trigger_workflow_run(tenant, "Charge", {}, idempotency_key="k")

    assert later.pk != first.pk
    assert IdempotencyKey.objects.get().run_id == later.pk


def test_a_retried_push_gets_the_event_and_starts_nothing_again(tenant: Tenant) -> None:
    [first] = push_events(tenant, [NewEvent("paid", {"n": 1}, idempotency_key="pay-1")])
    [again, fresh] = push_events(
        tenant,
        [NewEvent("paid", {"n": 2}, idempotency_key="pay-1"), NewEvent("paid", {"n": 3})],
    )

    assert again.pk == first.pk
    assert [run.input for run in again.runs.all()] == [{"n": 1}]
    assert fresh.pk != first.pk
    assert Event.objects.count() == 2
    assert WorkflowRun.objects.count() == 2


def test_keys_of_runs_and_events_are_apart_and_spent_ones_are_forgotten(tenant: Tenant) -> None:
    trigger_workflow_run(tenant, "Charge", {}, idempotency_key="same")
    push_events(tenant, [NewEvent("paid", idempotency_key="same")])
    assert WorkflowRun.objects.count() == 2

    later = timezone.now() + timedelta(days=1, seconds=1)
    assert forget_spent_keys(later) == 2
    assert not IdempotencyKey.objects.exists()
