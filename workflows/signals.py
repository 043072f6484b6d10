"""What the engine announces after commit; `workers` and the live views subscribe.

`workflows` never imports its subscribers: this module is the whole interface.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.dispatch import Signal

# kwargs: actions (set[str]) whose queues gained claimable step runs.
step_runs_queued = Signal()
# kwargs: actions_by_tenant (dict[tenant id, set[str]]); sent INSIDE the transaction
# that queues the step runs, so that a receiver may assign them in it. A receiver
# returns the ids of the step runs it assigned.
step_runs_queueing = Signal()
# kwargs: stops (list[StepStop]): held step runs their workers must abandon.
step_runs_stopped = Signal()
# kwargs: updates (list[RunUpdate]) for pages watching these workflow runs.
runs_updated = Signal()
# kwargs: step_run_ids (list[UUID]) of step runs that succeeded with playground records.
playground_recorded = Signal()
# kwargs: tenant_id, actions (set[str]); a receiver answers {action: ActionServers} for
# the actions some live worker of the tenant serves (asked for a queued step's reason).
workers_serving = Signal()
# kwargs: tenant_id, events (list[Event]) just pushed; sent after commit.
events_pushed = Signal()
# kwargs: parent_step_run_ids (set[UUID]) of the step runs whose child runs finished;
# sent after commit.
children_finished = Signal()
# kwargs: tenant_id; a receiver answers the tenant's active workers as
# affinity.WorkerProfile objects (asked when a step chooses its worker).
live_workers = Signal()
# kwargs: tenant, workflow (the evaluator's, a str), declaration (EvaluatorDeclaration);
# sent when a definition declaring a code evaluator is registered, before its version
# is written, so that a receiver that refuses the declaration (InvalidDefinition)
# refuses the registration.
evaluator_registered = Signal()
# No kwargs; a receiver answers [(model, field name)]: rows of its app whose field points
# at a workflow run that history retention must keep (workflows/engine/retention.py).
runs_referenced = Signal()


@dataclass(frozen=True)
class ActionServers:
    """The live workers that serve an action, and their free slots."""

    workers: int
    free_slots: int


@dataclass(frozen=True)
class StepStop:
    worker_id: UUID
    step_run_id: UUID
    attempt: int
    reason: str


@dataclass(frozen=True)
class RunUpdate:
    workflow_run_id: UUID
    message: dict[str, Any]
    # The run's trigger, on a run's status: listeners that care for the runs of some
    # triggers only (the playground's scoring) pass the others by without a query.
    trigger: str | None = None


def announce_queued(actions_by_tenant: dict[Any, set[str]], step_run_ids: set[Any]) -> None:
    if not actions_by_tenant:
        return
    responses = step_runs_queueing.send(sender=None, actions_by_tenant=actions_by_tenant)
    assigned: set[Any] = set().union(*(response or () for _, response in responses))
    if step_run_ids <= assigned:
        return  # every one leaves with the commit: waking the dispatchers finds nothing
    actions = set().union(*actions_by_tenant.values())
    transaction.on_commit(lambda: step_runs_queued.send(sender=None, actions=actions))


def announce_events_pushed(tenant_id: Any, events: list[Any]) -> None:
    if events:
        transaction.on_commit(
            lambda: events_pushed.send_robust(sender=None, tenant_id=tenant_id, events=events)
        )


def announce_children_finished(parent_step_run_ids: set[Any]) -> None:
    if parent_step_run_ids:
        transaction.on_commit(
            lambda: children_finished.send_robust(
                sender=None, parent_step_run_ids=parent_step_run_ids
            )
        )


def announce_stops(stops: list[StepStop]) -> None:
    if stops:
        transaction.on_commit(lambda: step_runs_stopped.send(sender=None, stops=stops))


def announce_run_updates(updates: list[RunUpdate]) -> None:
    if updates:
        transaction.on_commit(lambda: runs_updated.send(sender=None, updates=updates))


def announce_playground_recorded(step_run_ids: list[UUID]) -> None:
    if step_run_ids:
        transaction.on_commit(
            lambda: playground_recorded.send(sender=None, step_run_ids=step_run_ids)
        )
