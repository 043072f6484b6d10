"""Read-only access to the server's database, on PostgreSQL or SQLite alike.

The harness reads the truth the engine recorded (step runs SUCCEEDED and when, their
outputs) straight from the database rather than through the REST API, so that measuring
adds no load to the server it measures. It counts its own statements, so that they can
be taken out of PostgreSQL's transaction counters.
"""

import json
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg

# PostgreSQL's own count of the statements it ran: needs the library preloaded, which
# `make bench` and `make test-services` see to (the Makefile's pg-stat-statements).
PG_STAT_STATEMENTS = "pg_stat_statements"

STEP_RUNS = "workflows_steprun"
WORKFLOW_RUNS = "workflows_workflowrun"
WORKFLOWS = "workflows_workflow"


def count_statements_in(url: str) -> bool:
    """Create the pg_stat_statements view in the database `url` names, if the server
    preloads its library; whether it does."""
    with psycopg.connect(url, autocommit=True) as conn:
        preloaded = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
        if preloaded is None or PG_STAT_STATEMENTS not in str(preloaded[0]):
            return False
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS {PG_STAT_STATEMENTS}")
    return True


class Database:
    """One autocommit connection; `%s` placeholders on both engines."""

    def __init__(self, url: str | None, sqlite_path: str | None) -> None:
        self.is_postgres = url is not None
        self.statements = 0
        self._lock = threading.Lock()
        self._pg: psycopg.Connection[Any] | None = None
        self._sqlite: sqlite3.Connection | None = None
        if url is not None:
            self._pg = psycopg.connect(url, autocommit=True)
        else:
            if sqlite_path is None:
                raise RuntimeError("a database needs a PostgreSQL url or an SQLite path")
            self._sqlite = sqlite3.connect(sqlite_path, check_same_thread=False, timeout=30)
            self._sqlite.isolation_level = None

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        # The load monitor thread and the main thread share the connection.
        with self._lock:
            self.statements += 1
            if self._pg is not None:
                return self._pg.execute(sql, params).fetchall()
            if self._sqlite is None:
                raise RuntimeError("a database needs a PostgreSQL url or an SQLite path")
            return self._sqlite.execute(sql.replace("%s", "?"), params).fetchall()

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def timestamp(self, seconds: float) -> Any:
        """A parameter comparable with a DateTimeField column (SQLite stores UTC text)."""
        moment = datetime.fromtimestamp(seconds, UTC)
        if self.is_postgres:
            return moment
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def json_value(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
        if self._sqlite is not None:
            self._sqlite.close()

    # Named queries over the engine's tables.

    def open_runs(self, workflow: str) -> int:
        """Workflow runs of `workflow` not finished yet: the queue depth the load keeps up."""
        return int(
            self.scalar(
                # With the tenant, the runs' (tenant, status) index finds the open ones
                # without reading finished history (which cost PostgreSQL ~8 ms a call).
                f"SELECT count(*) FROM {WORKFLOW_RUNS} r JOIN {WORKFLOWS} w"
                " ON w.id = r.workflow_id AND w.tenant_id = r.tenant_id"
                " WHERE w.name = %s AND r.status IN ('PENDING', 'RUNNING')",
                (workflow,),
            )
        )

    def open_step_runs(self, action: str) -> int:
        """Step runs of `action` queued or held by a worker, through the partial index
        of open step runs (a step run has a deadline exactly while it is open)."""
        return int(
            self.scalar(
                f"SELECT count(*) FROM {STEP_RUNS} WHERE action = %s"
                " AND status IN ('QUEUED', 'ASSIGNED', 'RUNNING') AND deadline IS NOT NULL",
                (action,),
            )
        )

    def succeeded_step_runs(self, workflow: str, start: float, end: float) -> int:
        return int(
            self.scalar(
                f"SELECT count(*) FROM {STEP_RUNS} WHERE action LIKE %s AND status = 'SUCCEEDED'"
                " AND finished_at >= %s AND finished_at < %s",
                (f"{workflow}:%", self.timestamp(start), self.timestamp(end)),
            )
        )

    def succeeded_runs(self, workflow: str, start: float, end: float) -> int:
        return int(
            self.scalar(
                f"SELECT count(*) FROM {WORKFLOW_RUNS} r JOIN {WORKFLOWS} w ON w.id = r.workflow_id"
                " WHERE w.name = %s AND r.status = 'SUCCEEDED'"
                " AND r.finished_at >= %s AND r.finished_at < %s",
                (workflow, self.timestamp(start), self.timestamp(end)),
            )
        )

    def step_outputs(self, action: str, since: float) -> list[dict[str, Any]]:
        """Outputs of the `action` step runs created since `since` that succeeded."""
        rows = self.rows(
            f"SELECT output FROM {STEP_RUNS} WHERE action = %s AND status = 'SUCCEEDED'"
            " AND created_at >= %s",
            (action, self.timestamp(since)),
        )
        return [self.json_value(output) for (output,) in rows if output is not None]

    def pg_counters(self) -> dict[str, int]:
        """This database's cumulative activity counters (PostgreSQL only)."""
        self.rows("SELECT pg_stat_clear_snapshot()")
        columns = (
            "xact_commit",
            "xact_rollback",
            "tup_returned",
            "tup_fetched",
            "tup_inserted",
            "tup_updated",
            "tup_deleted",
            "blks_hit",
            "blks_read",
        )
        values = self.rows(
            f"SELECT {', '.join(columns)} FROM pg_stat_database WHERE datname = current_database()"
        )[0]
        return dict(zip(columns, (int(v) for v in values), strict=True))

    def pg_statement_calls(self) -> dict[str, int] | None:
        """Statements PostgreSQL executed in this database since it was made, by leading
        keyword, from pg_stat_statements (each row of an `executemany` is one, as are
        BEGIN and COMMIT); None where the view is not there."""
        if not self.is_postgres:
            return None
        present = self.scalar(
            "SELECT count(*) FROM pg_extension WHERE extname = %s", (PG_STAT_STATEMENTS,)
        )
        if not present:
            return None
        rows = self.rows(
            "SELECT upper(split_part(ltrim(query), ' ', 1)), sum(calls)::bigint"
            f" FROM {PG_STAT_STATEMENTS} WHERE dbid ="
            " (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY 1"
        )
        return {str(kind): int(calls) for kind, calls in rows}
