"""What a state change must announce once its transaction commits."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import transaction

from workflows.engine.affinity import note_constrained_queued
from workflows.metrics import Measures
from workflows.models import StepRun, WorkflowRun
from workflows.signals import (
    RunUpdate,
    StepStop,
    announce_children_finished,
    announce_playground_recorded,
    announce_queued,
    announce_run_updates,
    announce_stops,
)


@dataclass
class Effects:
    queued_actions: dict[Any, set[str]] = field(default_factory=lambda: defaultdict(set))
    queued_ids: set[Any] = field(default_factory=set)
    stops: list[StepStop] = field(default_factory=list)
    updates: list[RunUpdate] = field(default_factory=list)
    recorded_playground: list[Any] = field(default_factory=list)
    # Step runs whose child runs finished: their waits for children may be over.
    parents_of_finished: set[Any] = field(default_factory=set)
    measures: Measures = field(default_factory=Measures)

    def queued(self, step_run: StepRun) -> None:
        if step_run.constrained:
            note_constrained_queued(step_run.tenant_id)
        self.queued_actions[step_run.tenant_id].add(step_run.action)
        self.queued_ids.add(step_run.id)

    def stop(self, step_run: StepRun, reason: str) -> None:
        if step_run.worker_id is not None:
            self.stops.append(StepStop(step_run.worker_id, step_run.id, step_run.attempt, reason))

    def step_changed(self, step_run: StepRun) -> None:
        self.step_status(step_run.workflow_run_id, step_run.id, step_run.status, step_run.attempt)

    def step_status(
        self, workflow_run_id: UUID, step_run_id: UUID, status: str, attempt: int
    ) -> None:
        """A step run's new status, for callers that hold its fields but not the row."""
        self.updates.append(
            RunUpdate(
                workflow_run_id,
                {
                    "type": "step_run.status",
                    "step_run_id": str(step_run_id),
                    "status": status,
                    "attempt": attempt,
                },
            )
        )

    def succeeded(self, step_run: StepRun) -> None:
        if step_run.playground:
            self.recorded_playground.append(step_run.id)

    def run_started(self, run: WorkflowRun) -> None:
        self.measures.run_started(run)

    def run_finished(self, run: WorkflowRun) -> None:
        if run.parent_step_run_id is not None:
            self.parents_of_finished.add(run.parent_step_run_id)
        self.measures.run_finished(run)

    def step_run_finished(self, step_run: StepRun) -> None:
        self.measures.step_run_finished(step_run)

    def run_changed(self, run: WorkflowRun) -> None:
        self.updates.append(
            RunUpdate(
                run.id,
                {"type": "run.status", "run_id": str(run.id), "status": run.status},
                trigger=run.trigger,
            )
        )

    def line(self, workflow_run_id: UUID, message: dict[str, Any]) -> None:
        self.updates.append(RunUpdate(workflow_run_id, {"type": "step_run.line", **message}))

    def announce(self) -> None:
        """Called inside the transaction: the signals go out after it commits."""
        announce_queued(self.queued_actions, self.queued_ids)
        announce_stops(self.stops)
        announce_run_updates(self.updates)
        announce_playground_recorded(self.recorded_playground)
        announce_children_finished(self.parents_of_finished)
        if self.measures:
            transaction.on_commit(self.measures.record)
