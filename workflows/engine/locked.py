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

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.engine.steps import steps_of
from workflows.models import StepRun, StepRunAttempt, WorkflowRun

RUN_FIELDS = ["status", "started_at", "finished_at", "error", "deadline"]
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
    "started_at",
    "finished_at",
    "deadline",
]
ATTEMPT_FIELDS = ["status", "started_at", "finished_at", "error", "traceback"]


class LockedRuns:
    def __init__(
        self, run_ids: Iterable[Any] | QuerySet[Any], *, skip_locked: bool = False
    ) -> None:
        """Lock the runs (skipping those another transaction holds, if asked) and load
        them with their step runs and attempts. `run_ids` may be a subquery, so that
        finding the runs costs no round trip of its own. Call inside transaction.atomic()."""
        assert transaction.get_connection().in_atomic_block, "LockedRuns needs a transaction"
        self.now: datetime = timezone.now()
        self.effects = Effects()
        self.runs: dict[UUID, WorkflowRun] = {
            run.pk: run
            for run in WorkflowRun.objects.select_for_update(skip_locked=skip_locked)
            .filter(pk__in=run_ids if isinstance(run_ids, QuerySet) else list(run_ids))
            .order_by("pk")
        }
        self.step_runs: dict[UUID, StepRun] = {}
        self.step_runs_of: dict[UUID, list[StepRun]] = defaultdict(list)
        if self.runs:
            steps = {
                step.pk: step
                for version_id in {run.version_id for run in self.runs.values()}
                for step in steps_of(version_id)
            }
            for step_run in (
                StepRun.objects.select_for_update()
                .filter(workflow_run_id__in=list(self.runs))
                .order_by("pk")
            ):
                step_run.step = steps[step_run.step_id]
                self.step_runs[step_run.pk] = step_run
                self.step_runs_of[step_run.workflow_run_id].append(step_run)
        self.attempts: dict[tuple[UUID, int], StepRunAttempt] = {
            (attempt.step_run_id, attempt.number): attempt
            for attempt in StepRunAttempt.objects.filter(step_run_id__in=list(self.step_runs))
        }
        self.dirty: set[Any] = set()

    def run_of(self, step_run: StepRun) -> WorkflowRun:
        return self.runs[step_run.workflow_run_id]

    def attempt_of(self, step_run: StepRun) -> StepRunAttempt | None:
        return self.attempts.get((step_run.pk, step_run.attempt))

    def changed(self, *objects: Any) -> None:
        self.dirty.update(objects)

    def flush(self) -> None:
        """Write every changed row, then queue the announcements for after commit."""
        for model, fields in (
            (WorkflowRun, RUN_FIELDS),
            (StepRun, STEP_RUN_FIELDS),
            (StepRunAttempt, ATTEMPT_FIELDS),
        ):
            rows = [obj for obj in self.dirty if isinstance(obj, model)]
            if rows:
                write_rows(model, fields, rows)
        self.dirty.clear()
        self.effects.announce()


def write_rows(model: type[Model], fields: list[str], rows: list[Any]) -> None:
    """UPDATE each row's fields by primary key, as one executemany (pipelined by
    psycopg): Django's bulk_update builds CASE expressions that cost far more CPU."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)  # type: ignore[union-attr,arg-type]
    pk = meta.pk
    assert pk is not None
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    params = [
        [
            column.get_db_prep_save(getattr(row, column.attname), connection)  # type: ignore[union-attr]
            for column in columns
        ]
        + [pk.get_db_prep_save(row.pk, connection)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
