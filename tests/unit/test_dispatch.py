"""What a transaction queues is assigned, in that transaction, to a worker of this
process with a free slot; the assignment leaves when it commits."""

import uuid
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from hatchet.models import Tenant
from tests.factories import SignalCapture, definition
from workers.consumers import WorkerConsumer
from workers.dispatch import dispatcher
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.results import COMPLETED, Report
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, StepRunAttempt
from workflows.signals import step_runs_queued

pytestmark = pytest.mark.django_db


class LocalWorker:
    """A worker socket of this process, as the dispatcher sees one."""

    def __init__(self, tenant: Tenant, actions: list[str], slots: int) -> None:
        self.worker_id = uuid.uuid4()
        self.tenant_id = tenant.id
        self.actions = actions
        self.slots = slots
        self.draining = False

    def request_fill(self) -> None:
        pass

    def claim_for_me(self, actions: Iterable[str]) -> list[Assignment]:
        return claim_queued_step_runs(
            tenant_id=self.tenant_id,
            worker_id=self.worker_id,
            worker_name="local",
            actions=list(actions),
            slots=self.slots,
        )

    async def send_message(self, _message: dict[str, Any]) -> None:
        raise AssertionError("the test replaces delivery")

    async def close_stopped(self) -> None:
        raise AssertionError("no worker is stopped here")


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, list[Assignment]]]:
    sent: list[tuple[Any, list[Assignment]]] = []
    monkeypatch.setattr(dispatcher, "loop", object())
    monkeypatch.setattr(dispatcher, "connections", {})

    def deliver(connection: Any, assignments: list[Assignment]) -> None:
        if assignments:  # as the dispatcher's own: a claim that got nothing sends nothing
            sent.append((connection, assignments))

    monkeypatch.setattr(dispatcher, "deliver", deliver)
    return sent


def test_a_trigger_assigns_to_a_local_worker_with_a_free_slot(
    tenant: Tenant,
    other_tenant: Tenant,
    delivered: list[tuple[Any, list[Assignment]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    local = LocalWorker(tenant, ["Chain:a"], slots=1)
    elsewhere = LocalWorker(other_tenant, ["Chain:a"], slots=5)
    draining = LocalWorker(tenant, ["Chain:a"], slots=5)
    draining.draining = True
    for worker in (local, elsewhere, draining):
        dispatcher.connections[worker.worker_id] = worker

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = trigger_workflow_run(tenant, "Chain", {"n": 1})
        second = trigger_workflow_run(tenant, "Chain", {"n": 2})
    assert delivered == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    step_run = StepRun.objects.get(workflow_run=first)
    assert (step_run.status, step_run.worker_id, step_run.attempt) == (
        "ASSIGNED",
        local.worker_id,
        1,
    )
    assert StepRunAttempt.objects.get(step_run=step_run).worker_name == "local"
    [(connection, [assignment])] = delivered
    assert (connection, assignment.step_run_id, assignment.input) == (local, step_run.id, {"n": 1})
    # The one slot is taken: the second run waits in the queue for the dispatcher.
    assert StepRun.objects.get(workflow_run=second).status == "QUEUED"


def test_the_assignment_leaves_ahead_of_the_commits_other_hooks(
    tenant: Tenant,
    delivered: list[tuple[Any, list[Assignment]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """The claim's and the trigger's live updates ask Redis which runs are watched;
    the step must not wait for those answers to start."""
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    local = LocalWorker(tenant, ["Chain:a"], slots=1)
    dispatcher.connections[local.worker_id] = local

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = trigger_workflow_run(tenant, "Chain", {"n": 1})
    assert len(callbacks) == 3  # the delivery, the claim's updates, the trigger's
    callbacks[0]()
    [(connection, [assignment])] = delivered
    assert (connection, assignment.workflow_run_id) == (local, run.id)


def test_a_fill_and_a_batchs_refill_leave_ahead_of_their_other_hooks(
    tenant: Tenant,
    delivered: list[tuple[Any, list[Assignment]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    first = trigger_workflow_run(tenant, "Chain", {"n": 1})
    second = trigger_workflow_run(tenant, "Chain", {"n": 2})
    socket = WorkerConsumer()
    socket.tenant_id, socket.worker_id, socket.worker_name = tenant.id, uuid.uuid4(), "w"
    socket.actions, socket.slots = ["Chain:a"], 1

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        socket.claim_and_deliver()
    assert len(callbacks) == 2  # the delivery, then the claim's live updates
    callbacks[0]()
    [(_, [filled])] = delivered
    assert filled.workflow_run_id == first.id

    done = Report(COMPLETED, filled.step_run_id, filled.attempt, output={})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert socket.apply_and_refill([done]) == [True]
    # The delivery, the batch's updates, its metrics, the refill's updates.
    assert len(callbacks) == 4
    callbacks[0]()
    [_, (_, [refilled])] = delivered
    assert refilled.workflow_run_id == second.id


@pytest.mark.usefixtures("delivered")
def test_the_dispatchers_are_woken_only_for_what_the_transaction_left_queued(
    tenant: Tenant,
    django_capture_on_commit_callbacks: Callable[..., Any],
    capture_signal: SignalCapture,
) -> None:
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    local = LocalWorker(tenant, ["Chain:a"], slots=1)
    dispatcher.connections[local.worker_id] = local
    woken = capture_signal(step_runs_queued, "actions")

    with django_capture_on_commit_callbacks(execute=True):
        trigger_workflow_run(tenant, "Chain", {"n": 1})
    assert woken == []  # assigned in its transaction: nothing is left to claim
    with django_capture_on_commit_callbacks(execute=True):
        trigger_workflow_run(tenant, "Chain", {"n": 2})
    assert woken == [{"Chain:a"}]  # no free slot here: another process may have one


def test_slots_that_ended_steps_still_hold_on_the_worker_are_not_filled(
    tenant: Tenant,
    delivered: list[tuple[Any, list[Assignment]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A sync step that timed out runs on in its thread, in its slot, and the worker says
    so in its heartbeats: that slot is not free."""
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    for n in range(3):
        trigger_workflow_run(tenant, "Chain", {"n": n})
    socket = WorkerConsumer()
    socket.tenant_id, socket.worker_id, socket.worker_name = tenant.id, uuid.uuid4(), "w"
    socket.actions, socket.slots, socket.lingering = ["Chain:a"], 3, 2

    with django_capture_on_commit_callbacks(execute=True):
        socket.claim_and_deliver()

    [(_, filled)] = delivered
    assert len(filled) == 1
