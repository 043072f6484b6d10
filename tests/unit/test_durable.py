"""Durable waits and child runs in the engine: what a wait answers, the checks on
what it asks for, events taken once per step run, the ends the tick and the pushes
make, spawn keys, and cancellation down to the grandchildren."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest
from hatchet.models import Tenant
from tests.factories import ScriptedWorker, definition
from workflows.engine.children import spawn_children
from workflows.engine.definitions import register_workflow
from workflows.engine.durable import (
    NonDeterministic,
    WaitRequest,
    end_due_waits,
    make_wait,
    skip_wait,
    sweep_children_waits,
)
from workflows.engine.events import NewEvent, push_events
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.results import record_step_completed, record_step_failed
from workflows.engine.runs import cancel_workflow_run, retry_workflow_run, trigger_workflow_run
from workflows.models import DurableWait, StepRun, StepRunStatus, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def workflows(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Patient", [{"name": "wait", "durable": True}]))
    register_workflow(tenant, definition("Hasty", [{"name": "wait"}]))
    register_workflow(tenant, definition("Leaf", [{"name": "work"}]))


def started(tenant: Tenant, workflow: str = "Patient") -> tuple[ScriptedWorker, StepRun]:
    trigger_workflow_run(tenant, workflow, {})
    worker = ScriptedWorker(tenant)
    return worker, worker.start(f"{workflow}:wait")


def ask(
    tenant: Tenant, worker: ScriptedWorker, step_run: StepRun, kind: str, spec: dict, ordinal=0
) -> dict:
    request = WaitRequest(step_run.pk, step_run.attempt, ordinal, kind, spec)
    return make_wait(tenant.pk, worker.id, request)


def spawned(tenant: Tenant, worker: ScriptedWorker, step_run: StepRun, items: list) -> list:
    runs = spawn_children(tenant, worker.id, step_run.pk, step_run.attempt, items)
    assert runs is not None
    return runs


def test_a_wait_not_over_frees_the_slot_and_its_end_queues_the_step_again(
    tenant: Tenant,
) -> None:
    worker, step_run = started(tenant)

    assert ask(tenant, worker, step_run, "sleep", {"seconds": 30}) == {"state": "waiting"}

    step_run.refresh_from_db()
    assert (step_run.status, step_run.worker_id, step_run.deadline) == ("WAITING", None, None)
    assert step_run.attempts.get().status == "WAITING"
    # The same request again (its answer lost) changes nothing.
    assert ask(tenant, worker, step_run, "sleep", {"seconds": 30}) == {"state": "waiting"}
    assert end_due_waits(timezone.now()) == 0
    assert end_due_waits(timezone.now() + timedelta(seconds=31)) == 1
    step_run.refresh_from_db()
    assert step_run.status == StepRunStatus.QUEUED
    assert (step_run.retry_count, step_run.requeue_count) == (0, 0)


def test_a_replay_that_waits_otherwise_is_refused_as_not_deterministic(tenant: Tenant) -> None:
    worker, step_run = started(tenant)
    ask(tenant, worker, step_run, "sleep", {"seconds": 0})
    assert DurableWait.objects.get().result == {"slept": 0.0}

    with pytest.raises(NonDeterministic, match=r"wait #1 was sleep_for\(0s\).*wait_for_event"):
        ask(tenant, worker, step_run, "event", {"key": "approved"})


def test_only_a_durable_step_may_wait_and_what_it_waits_for_is_checked(tenant: Tenant) -> None:
    worker, hasty = started(tenant, "Hasty")
    with pytest.raises(InvalidRequest, match="Step 'wait' is not durable"):
        ask(tenant, worker, hasty, "sleep", {"seconds": 1})
    worker, patient = started(tenant)
    refused: list[tuple[str, dict[str, Any], str]] = [
        ("sleep", {"seconds": -1}, "'seconds' must be from zero"),
        ("sleep", {"seconds": "soon"}, "'seconds'"),
        ("event", {"key": "bad key!"}, "is invalid"),
        ("event", {"key": "ok", "filter": ["ticket"]}, "'filter' maps"),
        ("children", {"runs": []}, "from 1 to"),
        ("children", {"runs": ["not-a-uuid"]}, "workflow run ids"),
        ("nap", {}, "'kind' must be"),
    ]
    for kind, spec, message in refused:
        with pytest.raises(InvalidRequest, match=message):
            ask(tenant, worker, patient, kind, spec)


def test_a_stale_attempt_is_told_so(tenant: Tenant) -> None:
    worker, step_run = started(tenant)
    request = WaitRequest(step_run.pk, step_run.attempt + 1, 0, "sleep", {"seconds": 1})
    assert make_wait(tenant.pk, worker.id, request) == {"state": "stale"}
    other = ScriptedWorker(tenant, "w2")
    assert ask(tenant, other, step_run, "sleep", {"seconds": 1}) == {"state": "stale"}


def test_an_event_in_the_lookback_ends_the_wait_at_once_and_is_taken_once(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    push_events(tenant, [NewEvent("approved", {"ticket": 7, "by": "ann"})])
    worker, step_run = started(tenant)
    spec = {"key": "approved", "filter": {"ticket": 7}, "lookback": 60}

    first = ask(tenant, worker, step_run, "event", spec)
    assert first["state"] == "resolved"
    assert first["result"]["event"]["payload"] == {"ticket": 7, "by": "ann"}
    # The step's next wait for the same event does not take the same one again.
    assert ask(tenant, worker, step_run, "event", spec, ordinal=1) == {"state": "waiting"}

    # A push ends the waits it meets once it commits.
    with django_capture_on_commit_callbacks(execute=True):
        push_events(tenant, [NewEvent("approved", {"ticket": 8, "by": "bob"})])
    assert StepRun.objects.get(pk=step_run.pk).status == "WAITING"
    with django_capture_on_commit_callbacks(execute=True):
        push_events(tenant, [NewEvent("approved", {"ticket": 7, "by": "cy"})])
    step_run.refresh_from_db()
    assert step_run.status == "QUEUED"
    second = DurableWait.objects.get(ordinal=1).result
    assert second is not None
    assert second["event"]["payload"] == {"ticket": 7, "by": "cy"}


def test_an_event_wait_times_out(tenant: Tenant) -> None:
    worker, step_run = started(tenant)
    ask(tenant, worker, step_run, "event", {"key": "approved", "timeout": 5})
    assert end_due_waits(timezone.now() + timedelta(seconds=6)) == 1
    assert DurableWait.objects.get().result == {"timed_out": True}


def test_only_a_sleep_is_skipped(tenant: Tenant) -> None:
    worker, step_run = started(tenant)
    with pytest.raises(Conflict, match="not waiting"):
        skip_wait(tenant.pk, step_run.pk)
    ask(tenant, worker, step_run, "event", {"key": "approved"})
    with pytest.raises(Conflict, match="push the event it waits for"):
        skip_wait(tenant.pk, step_run.pk)

    worker, sleeper = started(tenant)
    ask(tenant, worker, sleeper, "sleep", {"seconds": 3600})
    wait = skip_wait(tenant.pk, sleeper.pk)
    assert wait.result == {"slept": 3600.0, "skipped": True}
    sleeper.refresh_from_db()
    assert sleeper.status == "QUEUED"


def test_a_spawn_key_gives_the_same_child_and_names_one_workflow(tenant: Tenant) -> None:
    worker, step_run = started(tenant, "Hasty")
    spawn = [{"workflow": "Leaf", "key": "a", "input": {"n": 1}}]

    [first] = spawned(tenant, worker, step_run, spawn)
    [again] = spawned(tenant, worker, step_run, spawn)

    assert first.pk == again.pk
    assert (first.parent_step_run_id, first.spawn_key, first.trigger) == (
        step_run.pk,
        "a",
        "spawn",
    )
    with pytest.raises(NonDeterministic, match="spawned a run of Leaf under key 'a'"):
        spawn_children(
            tenant, worker.id, step_run.pk, step_run.attempt, [{"workflow": "Hasty", "key": "a"}]
        )
    with pytest.raises(InvalidRequest, match="a key of its own"):
        spawn_children(tenant, worker.id, step_run.pk, step_run.attempt, spawn * 2)
    assert spawn_children(tenant, worker.id, step_run.pk, step_run.attempt + 1, spawn) is None


def test_children_waits_end_when_the_last_child_finishes(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    worker, step_run = started(tenant)
    children = spawned(
        tenant, worker, step_run, [{"workflow": "Leaf", "key": str(n)} for n in range(2)]
    )
    runs = [str(child.pk) for child in children]
    assert ask(tenant, worker, step_run, "children", {"runs": runs}) == {"state": "waiting"}

    first, second = claim_queued_step_runs(
        tenant_id=tenant.pk, worker_id=worker.id, worker_name="w", actions=["Leaf:work"], slots=9
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_step_completed(tenant.pk, first.step_run_id, 1, worker.id, {"n": 0})
    assert StepRun.objects.get(pk=step_run.pk).status == "WAITING"
    with django_capture_on_commit_callbacks(execute=True):
        record_step_failed(tenant.pk, second.step_run_id, 1, worker.id, "boom", "")

    step_run.refresh_from_db()
    assert step_run.status == "QUEUED"
    result = DurableWait.objects.get().result
    assert result is not None
    outcomes = result["runs"]
    assert {outcome["status"] for outcome in outcomes.values()} == {"SUCCEEDED", "FAILED"}
    assert outcomes[str(first.workflow_run_id)]["output"] == {"work": {"n": 0}}
    assert sweep_children_waits() == 0


def test_cancelling_a_run_cancels_its_children_and_theirs(tenant: Tenant) -> None:
    worker, step_run = started(tenant, "Hasty")
    [child] = spawned(tenant, worker, step_run, [{"workflow": "Hasty", "key": "c"}])
    inner = worker.start("Hasty:wait")
    [grandchild] = spawned(tenant, worker, inner, [{"workflow": "Leaf", "key": "g"}])

    cancel_workflow_run(tenant, step_run.workflow_run_id)

    statuses = dict(
        WorkflowRun.objects.filter(pk__in=[child.pk, grandchild.pk]).values_list("pk", "status")
    )
    assert statuses == {child.pk: "CANCELLED", grandchild.pk: "CANCELLED"}
    assert WorkflowRun.objects.get(pk=child.pk).error == "Cancelled with its parent run."


def test_a_waiting_step_run_cancelled_closes_its_wait(tenant: Tenant) -> None:
    worker, step_run = started(tenant)
    ask(tenant, worker, step_run, "event", {"key": "approved"})

    cancel_workflow_run(tenant, step_run.workflow_run_id)

    step_run.refresh_from_db()
    assert step_run.status == "CANCELLED"
    wait = DurableWait.objects.get()
    assert (wait.resolved_at is not None, wait.result) == (True, {"abandoned": True})

    # Retried, the run's step waits again, not on the wait it left.
    retry_workflow_run(tenant, step_run.workflow_run_id)
    [assignment] = claim_queued_step_runs(
        tenant_id=tenant.pk, worker_id=worker.id, worker_name="w", actions=["Patient:wait"], slots=9
    )
    assert (assignment.step_run_id, assignment.durable, assignment.waits) == (step_run.pk, True, [])
    request = WaitRequest(step_run.pk, assignment.attempt, 0, "event", {"key": "approved"})
    assert make_wait(tenant.pk, worker.id, request) == {"state": "waiting"}
    wait.refresh_from_db()
    assert (wait.resolved_at, wait.result) == (None, None)
