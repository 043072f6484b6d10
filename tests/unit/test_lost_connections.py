"""A request whose database connection is lost under it (a database restart, or
pg_terminate_backend, after the pool checked the connection) is served once more on a
new connection when it had changed nothing, and never when it may have."""

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.db.backends.postgresql import base as django_postgresql
from psycopg.pq import PipelineStatus
from rest_framework.test import APIClient

from hatchet.auth import Caller
from hatchet.db import TRANSACTION_ID_SQL, once_more_if_nothing_written, pipelined
from hatchet.messages import Message
from hatchet.models import Role, Tenant
from hatchet.postgresql.base import DatabaseWrapper
from tests.factories import register
from workflows.consumers import answer
from workflows.engine.runs import trigger_workflow_run
from workflows.models import WorkflowRun

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="terminates PostgreSQL backends"),
]

RUNS_TABLE = WorkflowRun._meta.db_table


def terminate_backend(pid: int | None) -> None:
    """Terminate the backend `pid`, or (None) every backend of the test database, as a
    database restart would."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname="postgres"
    ) as admin:
        # Waits until the backend is gone, so the statement cannot slip in before it.
        admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE (pid = %s OR (%s::int IS NULL AND datname = %s)) AND pid <> pg_backend_pid()",
            (pid, pid, settings["NAME"]),
        )


@contextlib.contextmanager
def connection_lost_before(
    matches: Callable[[str, bool], bool], *, every_connection: bool = False
) -> Iterator[None]:
    """The first statement that `matches` (given its text and whether it runs in a
    transaction) finds its connection terminated (and, with `every_connection`, the
    pool's idle ones too), as though the database restarted just then."""
    terminated: list[str] = []

    def terminate_first(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        db = context["connection"]
        if not terminated and matches(sql, db.in_atomic_block):
            terminate_backend(None if every_connection else db.connection.info.backend_pid)
            terminated.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(terminate_first):
        yield


def test_a_read_is_served_again_on_a_new_connection(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    with connection_lost_before(lambda sql, _: sql.startswith("SELECT") and RUNS_TABLE in sql):
        response = api.get("/api/v1/runs")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_trigger_lost_before_its_commit_makes_its_run_once(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)

    with connection_lost_before(lambda sql, _: sql.startswith("INSERT") and RUNS_TABLE in sql):
        response = api.post("/api/v1/workflows/Chain/runs", {"input": {}}, format="json")

    assert response.status_code == 201, response.content
    assert [str(run.id) for run in WorkflowRun.objects.all()] == [response.json()["id"]]


def test_writes_lost_as_their_pipeline_syncs_are_served_again(tenant: Tenant) -> None:
    """In pipeline mode the statements travel at the block's end: a connection lost
    then fails there, with the writes sent but never committed (the chaos suite's
    pg_terminate_backend met a trigger so, and it answered 500)."""
    register(tenant)
    calls: list[int] = []

    def trigger_losing_the_first_connection_before_the_sync() -> WorkflowRun:
        calls.append(1)
        with transaction.atomic(), pipelined():
            run = trigger_workflow_run(tenant, "Chain", {})
            if len(calls) == 1:
                terminate_backend(connection.connection.info.backend_pid)
        return run

    run = once_more_if_nothing_written(
        trigger_losing_the_first_connection_before_the_sync, lambda: None
    )

    assert len(calls) == 2
    assert [r.pk for r in WorkflowRun.objects.all()] == [run.pk]


def lose_the_connection_at_commit(
    monkeypatch: pytest.MonkeyPatch, *, after_committing: bool
) -> list[int]:
    """The first commit finds its connection terminated: before COMMIT reached the
    database, or after it committed with the answer lost on the way back."""
    lost: list[int] = []
    commit = getattr(django_postgresql.DatabaseWrapper, "_commit")  # noqa: B009 (not in django-stubs)

    def commit_and_lose_the_connection(db: Any) -> None:
        if db.connection is None or lost:
            return commit(db)
        lost.append(db.connection.info.backend_pid)
        if after_committing:
            commit(db)
        terminate_backend(lost[0])
        with db.wrap_database_errors:
            db.connection.execute("SELECT 1")

    monkeypatch.setattr(
        django_postgresql.DatabaseWrapper, "_commit", commit_and_lose_the_connection
    )
    return lost


@pytest.mark.parametrize("after_committing", [False, True])
def test_a_trigger_whose_commit_was_lost_makes_its_run_once(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, after_committing: bool
) -> None:
    """The transaction's fate, read on another connection, settles the doubt: one that
    aborted is served again, one that committed is answered as committed."""
    register(tenant)
    lost = lose_the_connection_at_commit(monkeypatch, after_committing=after_committing)

    response = api.post("/api/v1/workflows/Chain/runs", {"input": {}}, format="json")

    assert len(lost) == 1
    assert response.status_code == 201, response.content
    assert [str(run.id) for run in WorkflowRun.objects.all()] == [response.json()["id"]]


def test_a_request_whose_commit_cannot_be_settled_is_not_served_again(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the database cannot say what became of the transaction, serving the trigger
    again could make its run twice: the outcome stays unknown."""
    register(tenant)
    lost = lose_the_connection_at_commit(monkeypatch, after_committing=False)
    monkeypatch.setattr(DatabaseWrapper, "transaction_status", lambda _db, _xid: None)

    with pytest.raises(OperationalError, match="terminating connection"):
        api.post("/api/v1/workflows/Chain/runs", {"input": {}}, format="json")
    monkeypatch.undo()
    # As a server does at the end of each request (Django's test client does not).
    connection.close()

    assert len(lost) == 1
    assert WorkflowRun.objects.count() == 0


def test_a_trigger_over_the_client_socket_lost_before_its_commit_makes_its_run_once(
    tenant: Tenant,
) -> None:
    """The SDK's client socket serves a trigger as REST does (the fault suite's
    pg_terminate_backend met one there, and it answered 500)."""
    register(tenant)
    message = Message("run.trigger", {"type": "run.trigger", "id": "1", "workflow": "Chain"})

    with connection_lost_before(lambda sql, _: sql.startswith("INSERT") and RUNS_TABLE in sql):
        reply = answer(Caller(tenant=tenant, role=Role.EDITOR), message)

    assert reply["type"] == "result", reply
    assert [str(run.id) for run in WorkflowRun.objects.all()] == [reply["body"]["id"]]


def test_a_healthy_pooled_connection_is_handed_out_without_a_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each piece of the server's database work takes a pooled connection: a check that
    asked the server first cost a round trip every time (hatchet/pgpool.py)."""
    pool = connection.pool  # type: ignore[attr-defined]  # not in django-stubs
    sent: list[Any] = []
    original = psycopg.Connection.execute

    def counted(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        sent.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counted)
    for _ in range(3):
        pool.putconn(pool.getconn())

    assert sent == []


def test_pooled_connections_the_server_ended_are_replaced_as_they_are_handed_out() -> None:
    pool = connection.pool  # type: ignore[attr-defined]  # not in django-stubs
    idle = [pool.getconn() for _ in range(pool.min_size)]
    ended = {each.info.backend_pid for each in idle}
    for each in idle:
        pool.putconn(each)
    for pid in ended:
        terminate_backend(pid)

    handed_out = [pool.getconn() for _ in range(pool.min_size)]
    try:
        for each in handed_out:
            assert each.info.backend_pid not in ended
            assert each.execute("SELECT 1").fetchone() == (1,)
    finally:
        for each in handed_out:
            pool.putconn(each)


def test_a_pipelined_transaction_learns_its_id_with_the_sync_not_at_its_commit(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit must know its transaction's id before sending COMMIT (above); the
    trigger's pipeline reads it with its sync, so the commit costs no round trip more.
    A transaction without a pipeline still asks as it commits."""
    register(tenant)
    asked_in_pipeline: list[bool] = []
    original = psycopg.Connection.execute

    def noted(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if query == TRANSACTION_ID_SQL:
            asked_in_pipeline.append(self.pgconn.pipeline_status != PipelineStatus.OFF)
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", noted)
    trigger_workflow_run(tenant, "Chain", {})
    assert asked_in_pipeline == [True]

    with transaction.atomic():
        WorkflowRun.objects.update(priority=2)
    assert asked_in_pipeline == [True, False]
