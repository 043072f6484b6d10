"""Workflow runs locked for one transaction, worked on in memory, written at once.

Every writer of run and step run state goes through LockedRuns (the claim of queued
step runs aside): runs are locked first, then their step runs, both in id order, so
writers never deadlock; transitions change the loaded objects, and flush() writes
all that changed in one statement per table, however many runs a batch touched.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import JSONField, Model
from django.db.models.base import ModelState
from django.utils import timezone

from workflows.engine.effects import Effects
from workflows.engine.versions import steps_of
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
M = TypeVar("M", bound=Model)
# The instance attribute holding a loaded row's values by attribute name.
LOADED_VALUES = "_loaded_values"
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
        assert transaction.get_connection().in_atomic_block, "LockedRuns needs a transaction"
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
    """UPDATE by primary key those of the fields that any of the rows changed since it
    was loaded (a step's report changes about half of them), as one executemany
    (pipelined by psycopg). Django's bulk_update builds CASE expressions that cost far
    more CPU, and one UPDATE joined with the new values as VALUES cost PostgreSQL more
    per batch than these statements do (measured under load)."""
    db = transaction.get_connection()
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns = changed_columns(model, fields, rows)
    if not columns:
        return
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"
    targets = [*columns, pk]
    with db.cursor() as cursor:
        cursor.executemany(sql, [db_values(targets, row, db) for row in rows])
    for row in rows:
        loaded = row.__dict__.get(LOADED_VALUES)
        if loaded is not None:
            for column in columns:
                loaded[column.attname] = getattr(row, column.attname)


def changed_columns(model: type[Model], fields: list[str], rows: list[Any]) -> list[Any]:
    """The fields (of `fields`) whose value differs from the loaded one in any row; all
    of them for a row that was not loaded here."""
    columns: list[Any] = [model._meta.get_field(name) for name in fields]
    changed: list[Any] = []
    for column in columns:
        name = column.attname
        for row in rows:
            loaded = row.__dict__.get(LOADED_VALUES)
            if loaded is None:
                return columns
            if differs(column, getattr(row, name), loaded[name]):
                changed.append(column)
                break
    return changed


def differs(column: Any, value: Any, original: Any) -> bool:
    if isinstance(column, JSONField):
        # Equal JSON values may be stored differently (1 and True, 1 and 1.0), and a
        # loaded dict or list may have been changed in place.
        return value is not original or isinstance(value, dict | list)
    return bool(value != original)


def insert_rows(model: type[Model], rows: list[Any]) -> None:
    """INSERT new rows (their primary keys set), as one executemany: the ORM's
    bulk_create compiles its statement anew each time, a third of a trigger's CPU.
    (One multi-row INSERT cost the server more CPU than this: psycopg parses a query
    that long for its placeholders every time.)"""
    db = transaction.get_connection()
    meta = model._meta
    columns = list(meta.concrete_fields)
    quote = db.ops.quote_name
    names = ", ".join(quote(column.column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
    with db.cursor() as cursor:
        cursor.executemany(sql, [db_values(columns, row, db) for row in rows])
    for row in rows:
        row._state.adding = False
        row._state.db = db.alias


def db_values(columns: list[Any], row: Any, db: BaseDatabaseWrapper) -> list[Any]:
    # `db` is the thread's connection itself: the `connection` proxy would look it up
    # again for every value.
    return [column.get_db_prep_save(getattr(row, column.attname), db) for column in columns]


def db_value(id: Any, db: BaseDatabaseWrapper) -> Any:
    """A UUID as the database takes it (SQLite keeps them as hex text)."""
    return WorkflowRun._meta.pk.get_db_prep_value(id, db)


def in_list(ids: Iterable[Any]) -> tuple[str, list[Any]]:
    """`IN (...)` for these UUIDs, with its parameters; never empty SQL."""
    db = transaction.get_connection()
    values = [db_value(id, db) for id in ids]
    if not values:
        return "IN (NULL)", []
    return f"IN ({', '.join(['%s'] * len(values))})", values


class SelectedRows(Generic[M]):
    """The model's rows matching `where`, in id order, locked if asked (where the
    database locks rows): the query is sent when this is made and read by fetch(), so
    that several can travel together in a pipeline. Raw SQL, because the hot path
    loads the same shapes all the time and the ORM would compile each query anew; the
    values are converted and the instances built as the ORM does. (Not RawQuerySet: it
    reads the cursor's description before fetching, which a pipelined cursor does not
    have yet.)"""

    def __init__(
        self,
        model: type[M],
        where: str,
        params: list[Any],
        *,
        lock: bool = False,
        skip_locked: bool = False,
    ) -> None:
        self.model = model
        self.db = transaction.get_connection()
        quote = self.db.ops.quote_name
        lock_sql = ""
        if lock and self.db.features.has_select_for_update:
            lock_sql = " " + self.db.ops.for_update_sql(skip_locked=skip_locked)
        columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
        table = quote(model._meta.db_table)
        self.cursor = self.db.cursor()
        self.cursor.execute(
            f"SELECT {columns} FROM {table} WHERE {where} ORDER BY id{lock_sql}", params
        )

    def fetch(self) -> list[M]:
        db, model = self.db, self.model
        try:
            fetched = self.cursor.fetchall()
        finally:
            self.cursor.close()
        names, converters = loading_plan(model, db)
        instances = []
        for row in fetched:
            values = list(row)
            for position, functions, column in converters:
                for convert in functions:
                    values[position] = convert(values[position], column, db)
            instances.append(loaded_instance(model, db.alias, names, values))
        return instances


Converters = list[tuple[int, list[Any], Any]]
_loading_plans: dict[tuple[type[Model], str], tuple[list[str], Converters]] = {}


def loading_plan(model: type[Model], db: BaseDatabaseWrapper) -> tuple[list[str], Converters]:
    """The model's attribute names in column order and, for the columns that need
    them, the converters the ORM would apply to loaded values: the same for every load
    of a model from a database, so looked up once."""
    key = (model, db.alias)
    if key not in _loading_plans:
        table = model._meta.db_table
        fields = model._meta.concrete_fields
        converters = []
        for position, field in enumerate(fields):
            column = field.get_col(table)
            found = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if found:
                converters.append((position, found, column))
        _loading_plans[key] = ([field.attname for field in fields], converters)
    return _loading_plans[key]


def loaded_instance(model: type[M], alias: str, names: list[str], values: list[Any]) -> M:
    """What model.from_db returns for a whole row, without Model.__init__ setting each
    field through its descriptor (about a tenth of a report batch's CPU), and keeping the
    loaded values for write_rows. The models loaded here have no pre_init or post_init
    receivers, and no field is deferred."""
    instance = model.__new__(model)
    loaded = dict(zip(names, values, strict=True))
    instance.__dict__.update(loaded)
    # What write_rows compares the fields with, to write only those that changed.
    instance.__dict__[LOADED_VALUES] = loaded
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = alias
    return instance


Defaults = list[tuple[str, str, Callable[[], Any]]]
_making_plans: dict[type[Model], tuple[Defaults, dict[str, str]]] = {}


def new_instance(model: type[M], **values: Any) -> M:
    """What model(**values) makes, without Model.__init__ (a third of a trigger's CPU):
    the values given, by field or attribute name, a related object as its id with the
    object cached as the descriptor caches it, and every other field's default. The
    models made here have no pre_init or post_init receivers."""
    if model not in _making_plans:
        fields = model._meta.concrete_fields
        _making_plans[model] = (
            [(field.name, field.attname, field.get_default) for field in fields],
            {field.name: field.attname for field in fields if field.is_relation},
        )
    defaults, relations = _making_plans[model]
    instance = model.__new__(model)
    instance._state = ModelState()
    attributes = instance.__dict__
    for name, attname, default in defaults:
        if name not in values and attname not in values:
            attributes[attname] = default()
    for name, value in values.items():
        if name in relations:
            attributes[relations[name]] = None if value is None else value.pk
            instance._state.fields_cache[name] = value
        else:
            attributes[name] = value
    return instance
