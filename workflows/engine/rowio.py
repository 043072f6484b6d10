"""Row I/O for the engine's hot paths: loading, inserting and updating model rows with
raw SQL and building model instances without Model.__init__.

Why: the ORM compiles each query anew and sets every field through its descriptor;
on a trigger or a report batch that was a third of the CPU (see each function). What
it costs: the functions below re-implement Django internals, namely what
`Model.from_db` and `Model(**values)` build (`Model.__new__`, `_state.adding`,
`_state.db`, `_state.fields_cache`) and what `prefetch_related` leaves behind
(`_result_cache`, `_prefetch_done`, `_prefetched_objects_cache`).
tests/unit/test_rowio.py compares what they build with what the ORM builds, so that a
Django upgrade that changes those internals fails there, not in production.
"""

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import JSONField, Model, UUIDField
from django.db.models.base import ModelState

M = TypeVar("M", bound=Model)
# The instance attribute holding a loaded row's values by attribute name.
LOADED_VALUES = "_loaded_values"
# Converts UUIDs for the database as every id column of ours does.
UUID_FIELD: "UUIDField[Any, Any]" = UUIDField()


def write_rows(model: type[Model], fields: list[str], rows: list[Any]) -> None:
    """UPDATE by primary key those of the fields that any of the rows changed since it
    was loaded (a step's report changes about half of them), as one executemany
    (pipelined by psycopg). Django's bulk_update builds CASE expressions that cost far
    more CPU, and one UPDATE joined with the new values as VALUES cost PostgreSQL more
    per batch than these statements do (measured under load)."""
    db = transaction.get_connection()
    meta = model._meta
    pk = meta.pk
    if pk is None:
        raise RuntimeError(f"{model.__name__} has no primary key")
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
    return UUID_FIELD.get_db_prep_value(id, db)


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


def mark_prefetched(instance: Model, relation: str, objects: list[Any]) -> None:
    """Record `objects` as `instance.<relation>` the way prefetch_related does, so that
    `.all()` needs no query (and any other queryset method still runs one)."""
    queryset = getattr(instance, relation).all()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[relation] = queryset
