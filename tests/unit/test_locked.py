"""LockedRuns loads rows as the ORM would and writes back only what changed."""

import uuid
from typing import Any

import pytest
from django.db import transaction

from hatchet.models import Tenant
from tests.conftest import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.locked import LockedRuns, new_instance
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


def test_loaded_rows_are_what_the_orm_loads(run: WorkflowRun) -> None:
    with transaction.atomic():
        locked = LockedRuns([run.pk])
    loaded = [locked.runs[run.pk], *locked.step_runs_of[run.pk]]
    for instance in loaded:
        fetched = type(instance)._default_manager.get(pk=instance.pk)
        for field in type(instance)._meta.concrete_fields:
            assert getattr(instance, field.attname) == getattr(fetched, field.attname)
        assert (instance._state.adding, instance._state.db) == (False, "default")


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


def test_new_instances_are_what_the_models_constructor_makes(
    run: WorkflowRun, django_assert_num_queries: Any
) -> None:
    step_run = StepRun.objects.select_related("step").get(workflow_run=run)
    cases: list[tuple[type[Any], dict[str, Any]]] = [
        (
            WorkflowRun,
            {
                "tenant": run.tenant,
                "workflow": run.workflow,
                "version": run.version,
                "input": {"n": 2},
                "event": None,
                "trigger": "event",
            },
        ),
        (
            StepRun,
            {
                "tenant_id": run.tenant_id,
                "workflow_run": run,
                "step": step_run.step,
                "action": "One:a",
                "worker_id": uuid.uuid4(),
            },
        ),
    ]
    for model, values in cases:
        made, constructed = new_instance(model, **values), model(**values)
        fresh = {"id", "created_at"}  # defaults that differ from one call to the next
        for field in model._meta.concrete_fields:
            if field.name not in fresh:
                assert getattr(made, field.attname) == getattr(constructed, field.attname)
        with django_assert_num_queries(0):  # related objects given are cached
            for name, value in values.items():
                assert getattr(made, name) == value
        assert isinstance(made.pk, uuid.UUID) and made.pk != constructed.pk
        assert (made._state.adding, made._state.db) == (True, None)
