"""Scoring listens to every finished run, but only the playground's and evaluators'
runs can be scored: the others finish without a scoring query (each cost two
look-ups, in their own transactions, after every report batch that finished a run)."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from hatchet.models import Tenant
from playground.code_evaluators import EVALUATOR_TRIGGER
from playground.models import PLAYGROUND_TRIGGER
from playground.scoring import on_runs_updated
from tests.factories import SignalCapture, definition
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.results import record_step_completed
from workflows.engine.runs import trigger_workflow_run
from workflows.signals import RunUpdate, runs_updated

pytestmark = pytest.mark.django_db


def finished(trigger: str | None) -> list[RunUpdate]:
    run_id = uuid.uuid4()
    message = {"type": "run.status", "run_id": str(run_id), "status": "SUCCEEDED"}
    return [RunUpdate(run_id, message, trigger=trigger)]


def test_a_run_outside_the_playground_finishes_without_a_scoring_query(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    with django_assert_num_queries(0):
        on_runs_updated(finished("api"))


@pytest.mark.parametrize("trigger", [PLAYGROUND_TRIGGER, EVALUATOR_TRIGGER])
def test_the_playgrounds_and_evaluators_runs_are_looked_up(
    trigger: str, django_assert_num_queries: Callable[..., Any]
) -> None:
    """The cells among them (none here) and the scores waiting for them."""
    with django_assert_num_queries(2):
        on_runs_updated(finished(trigger))


def test_the_engine_says_which_trigger_a_finished_run_came_from(
    tenant: Tenant, capture_signal: SignalCapture, django_capture_on_commit_callbacks: Any
) -> None:
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    updates = capture_signal(runs_updated, "updates", many=True)
    worker_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        run = trigger_workflow_run(tenant, "Chain", {})
        [assignment] = claim_queued_step_runs(
            tenant_id=tenant.id, worker_id=worker_id, worker_name="w", actions=["Chain:a"], slots=1
        )
        assert record_step_completed(
            tenant.id, assignment.step_run_id, assignment.attempt, worker_id, {}
        )

    [status] = [
        update
        for update in updates
        if update.message == {"type": "run.status", "run_id": str(run.id), "status": "SUCCEEDED"}
    ]
    assert status.trigger == "api"
