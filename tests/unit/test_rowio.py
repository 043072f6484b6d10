"""The row I/O layer builds what the ORM builds. It re-implements Django internals
(Model.__new__, _state, fields_cache, the prefetch cache) for speed: a Django upgrade
that changes them fails here."""

import uuid
from collections.abc import Collection
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.rowio import (
    LOADED_VALUES,
    SelectedRows,
    in_list,
    insert_rows,
    mark_prefetched,
    new_instance,
)
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(tenant: Tenant) -> WorkflowRun:
    register_workflow(tenant, definition("One", steps=[{"name": "a"}]))
    return trigger_workflow_run(tenant, "One", {"n": 1})


def assert_built_alike(ours: Model, theirs: Model, *, fresh: Collection[str] = ()) -> None:
    """Same field values (but `fresh` defaults, new at each call), the same instance
    attributes, the same `_state.adding` and the same cached related objects (callers
    compare `_state.db`)."""
    for field in type(ours)._meta.concrete_fields:
        if field.name not in fresh:
            assert getattr(ours, field.attname) == getattr(theirs, field.attname), field.name
    assert set(vars(ours)) - {LOADED_VALUES} == set(vars(theirs))
    assert ours._state.adding == theirs._state.adding
    assert ours._state.fields_cache.keys() == theirs._state.fields_cache.keys()
    for name, related in ours._state.fields_cache.items():
        assert related is theirs._state.fields_cache[name]


def test_loaded_rows_are_what_the_orm_loads(run: WorkflowRun) -> None:
    for model in (WorkflowRun, StepRun):
        with transaction.atomic():
            members, params = in_list([run.pk])
            column = "id" if model is WorkflowRun else "workflow_run_id"
            [loaded] = SelectedRows(model, f"{column} {members}", params, lock=True).fetch()
        fetched = model._default_manager.get(pk=loaded.pk)

        assert_built_alike(loaded, fetched)
        assert (loaded._state.adding, loaded._state.db) == (False, fetched._state.db)


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

        assert_built_alike(made, constructed, fresh={"id", "created_at"})
        with django_assert_num_queries(0):  # related objects given are cached
            for name, value in values.items():
                assert getattr(made, name) == value
        assert isinstance(made.pk, uuid.UUID)
        assert made.pk != constructed.pk
        # The constructor takes the database of the related objects given; a new
        # instance has none until insert_rows writes it, and nothing reads it before.
        assert (made._state.adding, made._state.db) == (True, None)


def test_inserted_rows_are_what_save_stores(run: WorkflowRun) -> None:
    values = {
        "tenant": run.tenant,
        "workflow": run.workflow,
        "version": run.version,
        "input": {"n": 2},
        "trigger": "api",
    }
    inserted, saved = new_instance(WorkflowRun, **values), WorkflowRun(**values)

    with transaction.atomic():
        insert_rows(WorkflowRun, [inserted])
        saved.save(force_insert=True)

    assert_built_alike(inserted, saved, fresh={"id", "created_at"})
    assert inserted._state.db == saved._state.db
    assert_built_alike(
        WorkflowRun.objects.get(pk=inserted.pk),
        WorkflowRun.objects.get(pk=saved.pk),
        fresh={"id", "created_at"},
    )


def test_marked_relations_are_what_prefetch_related_leaves(
    run: WorkflowRun, django_assert_num_queries: Any
) -> None:
    step_runs = list(StepRun.objects.filter(workflow_run=run))
    marked = WorkflowRun.objects.get(pk=run.pk)
    mark_prefetched(marked, "step_runs", step_runs)
    prefetched = WorkflowRun.objects.prefetch_related("step_runs").get(pk=run.pk)

    with django_assert_num_queries(0):
        assert list(marked.step_runs.all()) == list(prefetched.step_runs.all()) == step_runs
        assert [s.pk for s in marked.step_runs.all()] == [s.pk for s in step_runs]
    assert set(vars(marked)) == set(vars(prefetched))
    assert vars(marked)["_prefetched_objects_cache"].keys() == {"step_runs"}
    assert vars(prefetched)["_prefetched_objects_cache"].keys() == {"step_runs"}
