"""Pausing a workflow: new runs wait, whatever starts them; a resume (or, for a run
held back by a process that saw the pause late, the tick) releases them in order."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from hatchet.models import Tenant
from tests.factories import definition, member_client
from workflows.engine.definitions import register_workflow
from workflows.engine.events import NewEvent, push_events
from workflows.engine.pausing import set_paused
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.runs import cancel_workflow_run, trigger_workflow_run
from workflows.engine.schedules import fire_due_schedules, schedule_run
from workflows.models import StepRun, WorkflowRun
from workflows.ticker import tick

pytestmark = pytest.mark.django_db

STEPS = [{"name": "first"}, {"name": "second", "parents": ["first"]}]


def claimed_runs(tenant: Tenant) -> list[Any]:
    worker = uuid.uuid4()
    assignments = claim_queued_step_runs(
        tenant_id=tenant.id, worker_id=worker, worker_name="w", actions=["Paused:first"], slots=100
    )
    return [a.workflow_run_id for a in assignments]


def test_new_runs_wait_while_paused_and_a_resume_releases_them_in_order(
    tenant: Tenant,
) -> None:
    register_workflow(tenant, definition("Paused", STEPS, on_events=["order:*"]))
    going = trigger_workflow_run(tenant, "Paused", {"n": 0})

    set_paused(tenant, "Paused", paused=True)
    api_run = trigger_workflow_run(tenant, "Paused", {"n": 1})
    [event] = push_events(tenant, [NewEvent("order:placed", {"n": 2}, {})])
    schedule_run(tenant, "Paused", timezone.now() + timedelta(seconds=1), input={"n": 3})
    assert fire_due_schedules(timezone.now() + timedelta(seconds=2)) == 1
    urgent = trigger_workflow_run(tenant, "Paused", {"n": 4}, priority=4)

    waiting = WorkflowRun.objects.filter(waiting_for="resume").order_by("created_at")
    assert [run.input["n"] for run in waiting] == [1, 2, 3, 4]
    assert {run.status for run in waiting} == {"PENDING"}
    assert not StepRun.objects.filter(workflow_run__in=waiting, status="QUEUED").exists()
    # The run that was going when the workflow paused goes on.
    assert claimed_runs(tenant) == [going.pk]

    workflow = set_paused(tenant, "Paused", paused=False)

    assert not workflow.is_paused
    assert not WorkflowRun.objects.filter(waiting_for="resume").exists()
    # In the order they came (the urgent one first): ranked from when each was created.
    order = claimed_runs(tenant)
    assert order[0] == urgent.pk
    assert [WorkflowRun.objects.get(pk=pk).input["n"] for pk in order[1:]] == [1, 2, 3]
    assert {api_run.pk, *(run.pk for run in event.runs.all())} <= set(order)


def test_a_cancelled_waiting_run_is_done_waiting(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Paused", STEPS))
    set_paused(tenant, "Paused", paused=True)
    run = trigger_workflow_run(tenant, "Paused", {})

    cancel_workflow_run(tenant, run.pk)
    set_paused(tenant, "Paused", paused=False)

    run.refresh_from_db()
    assert (run.status, run.waiting_for) == ("CANCELLED", "")
    assert set(run.step_runs.values_list("status", flat=True)) == {"CANCELLED"}


@pytest.mark.django_db(transaction=True)
def test_the_tick_releases_a_run_held_back_after_the_resume(tenant: Tenant) -> None:
    """Another process may start a run with the pause it read a moment before a resume."""
    register_workflow(tenant, definition("Paused", STEPS))
    late = trigger_workflow_run(tenant, "Paused", {})
    WorkflowRun.objects.filter(pk=late.pk).update(waiting_for="resume")
    StepRun.objects.filter(workflow_run=late).update(
        status="PENDING", queued_at=None, available_at=None, ranked_at=None, deadline=None
    )

    counts = tick(triggers=False)

    assert counts["paused_runs_released"] == 1
    assert claimed_runs(tenant) == [late.pk]


def test_pausing_and_resuming_over_the_api(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Paused", STEPS))
    editor = member_client(tenant, "editor", username="ed")
    viewer = member_client(tenant, "viewer", username="vi")

    paused = editor.post("/api/v1/workflows/Paused/pause")
    refused = viewer.post("/api/v1/workflows/Paused/resume")
    run = editor.post("/api/v1/workflows/Paused/runs", {}, format="json").json()
    unknown = editor.post("/api/v1/workflows/Nope/pause")
    resumed = editor.post("/api/v1/workflows/Paused/resume")

    assert (paused.status_code, paused.json()["is_paused"]) == (200, True)
    assert refused.status_code == 403
    assert (run["status"], run["waiting_for"]) == ("PENDING", "resume")
    assert unknown.json()["error"]["message"] == "Workflow 'Nope' is not registered."
    assert (resumed.status_code, resumed.json()["is_paused"]) == (200, False)
    assert editor.get(f"/api/v1/runs/{run['id']}").json()["waiting_for"] == ""
