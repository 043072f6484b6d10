"""Workflow runs locked for one transaction, worked on in memory, written at once.

Every writer of run and step run state goes through LockedRuns (the claim of queued
step runs aside): runs are locked first, then their step runs, both in id order, so
writers never deadlock; transitions change the loaded objects, and flush() writes
all that changed in one statement per table, however many runs a batch touched.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.engine.rowio import SelectedRows, db_value, in_list, write_rows
from workflows.engine.versions import steps_of
from workflows.models import DurableWait, StepRun, StepRunAttempt, WorkflowRun

# What the waits of a step run that ended while it waited return: nothing; a retry of
# its run waits again (durable.py).
ABANDONED_WAIT = {"abandoned": True}
RUN_FIELDS = ["status", "waiting_for", "started_at", "finished_at", "error", "deadline"]
STEP_RUN_FIELDS = [
    "status",
    "worker_id",
    "retry_count",
    "requeue_count",
    "output",
    "error",
    "playground",
    "usage",
    "queued_at",
    "available_at",
    "ranked_at",
    "started_at",
    "finished_at",
    "deadline",
]
ATTEMPT_FIELDS = ["status", "started_at", "finished_at", "error", "traceback"]


class LockedRuns:
    def __init__(
        self,
        run_ids: Iterable[Any] = (),
        *,
        skip_locked: bool = False,
        of_step_runs: tuple[Any, Iterable[Any]] | None = None,
    ) -> None:
        """Lock the runs (skipping those another transaction holds, if asked) and load
        them with their step runs and attempts. `of_step_runs=(tenant_id, step_run_ids)`
        names the runs by their step runs instead, found by the locking query itself.
        Call inside transaction.atomic()."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("LockedRuns needs a transaction")
        self.now: datetime = timezone.now()
        self.effects = Effects()
        if of_step_runs is None:
            members, params = in_list(run_ids)
        else:
            tenant_id, step_run_ids = of_step_runs
            ids, params = in_list(step_run_ids)
            members = (
                f"IN (SELECT workflow_run_id FROM {StepRun._meta.db_table} "
                f"WHERE id {ids} AND tenant_id = %s)"
            )
            params.append(db_value(tenant_id, transaction.get_connection()))
        runs = SelectedRows(
            WorkflowRun, f"id {members}", params, lock=True, skip_locked=skip_locked
        )
        self.runs: dict[UUID, WorkflowRun]
        if skip_locked:
            # Only the runs locked here are known once they are fetched: the step runs
            # of the others are another transaction's, and locking them would wait.
            self.runs = {run.pk: run for run in runs.fetch()}
            members, params = in_list(self.runs)
        # Otherwise every named run is locked by the first statement, so the three go
        # to the database together (one round trip when pipelined) and the later two
        # see what the lock protects.
        step_runs = SelectedRows(StepRun, f"workflow_run_id {members}", params, lock=True)
        attempts = SelectedRows(
            StepRunAttempt,
            f"step_run_id IN (SELECT id FROM {StepRun._meta.db_table} "
            f"WHERE workflow_run_id {members})",
            params,
        )
        if not skip_locked:
            self.runs = {run.pk: run for run in runs.fetch()}
        steps = {
            step.pk: step
            for version_id in {run.version_id for run in self.runs.values()}
            for step in steps_of(version_id)
        }
        self.step_runs: dict[UUID, StepRun] = {}
        self.step_runs_of: dict[UUID, list[StepRun]] = defaultdict(list)
        for step_run in step_runs.fetch():
            step_run.step = steps[step_run.step_id]
            self.step_runs[step_run.pk] = step_run
            self.step_runs_of[step_run.workflow_run_id].append(step_run)
        self.attempts: dict[tuple[UUID, int], StepRunAttempt] = {
            (attempt.step_run_id, attempt.number): attempt for attempt in attempts.fetch()
        }
        self.dirty: set[Any] = set()
        # (tenant id, concurrency key) of the going runs that finished: their keys have
        # room for a waiting run, settled as the changes are written.
        self.freed_keys: set[tuple[Any, str]] = set()
        # Runs cancelled here: their child runs are cancelled with them, in this
        # transaction (parents are locked before children, as everywhere).
        self.cancelled_runs: set[UUID] = set()
        # Step runs that ended while they waited (cancelled, their run timed out): their
        # open waits are closed, so that no push or tick weighs them again.
        self.ended_waiting: set[UUID] = set()

    def run_of(self, step_run: StepRun) -> WorkflowRun:
        return self.runs[step_run.workflow_run_id]

    def attempt_of(self, step_run: StepRun) -> StepRunAttempt | None:
        return self.attempts.get((step_run.pk, step_run.attempt))

    def changed(self, *objects: Any) -> None:
        self.dirty.update(objects)

    def flush(self) -> None:
        """Write every changed row, queue the announcements for after commit, cancel the
        children of the runs cancelled here, and settle the concurrency keys that runs
        which finished here made room in."""
        for model, fields in (
            (WorkflowRun, RUN_FIELDS),
            (StepRun, STEP_RUN_FIELDS),
            (StepRunAttempt, ATTEMPT_FIELDS),
        ):
            rows = [obj for obj in self.dirty if isinstance(obj, model)]
            if rows:
                write_rows(model, fields, rows)
        self.dirty.clear()
        if self.ended_waiting:
            DurableWait.objects.filter(
                step_run_id__in=list(self.ended_waiting), resolved_at__isnull=True
            ).update(resolved_at=self.now, result=ABANDONED_WAIT)
            self.ended_waiting.clear()
        self.effects.announce()
        if self.cancelled_runs:
            cancelled, self.cancelled_runs = self.cancelled_runs, set()
            cancel_children_of(cancelled)
        if self.freed_keys:
            from workflows.engine.concurrency import settle_keys  # it builds LockedRuns

            keys, self.freed_keys = self.freed_keys, set()
            settle_keys(keys)


def cancel_children_of(run_ids: set[UUID]) -> None:
    """Cancel the unfinished runs that step runs of these runs spawned (and theirs)."""
    from workflows.engine.transitions import cancel_run  # it works on LockedRuns

    children = list(
        WorkflowRun.objects.filter(
            parent_step_run__workflow_run_id__in=run_ids, finished_at__isnull=True
        ).values_list("id", flat=True)
    )
    if not children:
        return
    locked = LockedRuns(children)
    for run in locked.runs.values():
        cancel_run(locked, run, error="Cancelled with its parent run.")
    locked.flush()
