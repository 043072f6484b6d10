"""LockedRuns writes back only what changed (tests/unit/test_rowio.py: that it loads
rows as the ORM does)."""

from typing import Any

import pytest
from django.db import transaction

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.locked import LockedRuns
from workflows.engine.runs import RunRequest, trigger_workflow_run, trigger_workflow_runs
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(tenant: Tenant) -> WorkflowRun:
    register_workflow(tenant, definition("One", steps=[{"name": "a"}]))
    return trigger_workflow_run(tenant, "One", {"n": 1})


def flush_changes(run: WorkflowRun, change: Any, *, before: Any = None) -> None:
    """Load the run in a transaction, let `before` write behind LockedRuns' back, apply
    `change` to the loaded step run, and flush."""
    with transaction.atomic():
        locked = LockedRuns([run.pk])
        if before is not None:
            before()
        [step_run] = locked.step_runs_of[run.pk]
        change(step_run)
        locked.changed(step_run)
        locked.flush()


def test_a_flush_writes_only_the_fields_that_changed(run: WorkflowRun) -> None:
    step_run = StepRun.objects.get(workflow_run=run)

    def write_elsewhere() -> None:
        StepRun.objects.filter(pk=step_run.pk).update(error="written elsewhere")

    def retry(step_run: StepRun) -> None:
        step_run.retry_count = 3

    flush_changes(run, retry, before=write_elsewhere)

    step_run.refresh_from_db()
    assert (step_run.retry_count, step_run.error) == (3, "written elsewhere")


def test_an_equal_json_value_of_another_type_is_written(run: WorkflowRun) -> None:
    StepRun.objects.filter(workflow_run=run).update(output=1)

    def output_true(step_run: StepRun) -> None:
        step_run.output = True

    flush_changes(run, output_true)

    assert StepRun.objects.get(workflow_run=run).output is True


def test_a_field_set_back_after_a_flush_is_written_again(run: WorkflowRun) -> None:
    with transaction.atomic():
        locked = LockedRuns([run.pk])
        [step_run] = locked.step_runs_of[run.pk]
        step_run.retry_count = 3
        locked.changed(step_run)
        locked.flush()
        step_run.retry_count = 0
        locked.changed(step_run)
        locked.flush()

    assert StepRun.objects.get(workflow_run=run).retry_count == 0


def test_a_bulk_trigger_stores_every_run_with_its_step_run(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", steps=[{"name": "a"}]))
    runs = trigger_workflow_runs(tenant, "One", [RunRequest(input={"i": i}) for i in range(120)])

    stored = WorkflowRun.objects.filter(pk__in=[r.pk for r in runs])
    assert sorted(r.input["i"] for r in stored) == list(range(120))
    assert StepRun.objects.filter(workflow_run__in=stored, status="QUEUED").count() == 120
