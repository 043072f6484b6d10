"""Cost per step run: counted database work and CPU, differenced around a phase.

Each count is taken before and after the phase and divided by the step runs that
succeeded between the two snapshots:
- `statements`: on PostgreSQL, the statements PostgreSQL itself executed in the run's
  database, from `pg_stat_statements` (each row of an `executemany` counts, as it is one
  execution for the server), less the harness's own reads and less BEGIN/COMMIT/ROLLBACK
  (counted apart, in `statements_by_kind`); on SQLite, the cursor calls below.
- `cursor_calls`: the calls the server processes made through Django's cursors, by
  bench/counting_server.py (an `executemany` is one), and `db_wait_ms`, the time the
  servers' threads waited in them.
- PostgreSQL only, from `pg_stat_database`: committed transactions (the harness's own
  autocommit reads subtracted) and rows inserted, updated and deleted. Backends flush
  these counters about once a second, so they are exact over a long phase and
  approximate over a short one.
- `cpu_ms`: CPU milliseconds of each part of the deployment (bench/cpu.py).
All include everything the servers do meanwhile: the trigger requests, heartbeats, the
ticker and the dispatcher's polls.
"""

import time
from dataclasses import dataclass
from typing import Any

from bench.cpu import CpuSnapshot, cpu_ms_per_step, cpu_snapshot
from bench.database import Database
from bench.stack import HatchetStack

# PostgreSQL backends report their counters when idle for about a second.
PG_STATS_SETTLE = 1.5
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class Snapshot:
    at: float
    cursor_calls: dict[str, int]
    cursor_seconds: float
    own_statements: int
    pg: dict[str, int] | None
    pg_statements: dict[str, int] | None
    cpu: CpuSnapshot


def snapshot(stack: HatchetStack) -> Snapshot:
    db = stack.db
    if db.is_postgres:
        time.sleep(PG_STATS_SETTLE)
    cursor_calls, cursor_seconds = stack.cursor_calls()
    return Snapshot(
        at=time.time(),
        cursor_calls=cursor_calls,
        cursor_seconds=cursor_seconds,
        own_statements=db.statements,
        pg=db.pg_counters() if db.is_postgres else None,
        pg_statements=db.pg_statement_calls(),
        cpu=cpu_snapshot(stack.cpu_components()),
    )


def _per_kind(before: dict[str, int], after: dict[str, int], step_runs: int) -> dict[str, float]:
    by_kind = {
        kind: round((after.get(kind, 0) - before.get(kind, 0)) / step_runs, 2)
        for kind in sorted(set(after) | set(before))
    }
    return {kind: value for kind, value in by_kind.items() if value}


def per_step_run(db: Database, workflow: str, before: Snapshot, after: Snapshot) -> dict[str, Any]:
    step_runs = db.succeeded_step_runs(workflow, before.at, after.at)
    if step_runs == 0:
        return {"step_runs": 0}
    calls = _per_kind(before.cursor_calls, after.cursor_calls, step_runs)
    # Every statement of the harness runs in autocommit: one statement, one transaction.
    own = after.own_statements - before.own_statements
    result: dict[str, Any] = {
        "step_runs": step_runs,
        "cursor_calls": round(sum(calls.values()), 2),
        "cursor_calls_by_kind": calls,
        "db_wait_ms": round((after.cursor_seconds - before.cursor_seconds) * 1000 / step_runs, 3),
        "cpu_ms": cpu_ms_per_step(before.cpu, after.cpu, step_runs),
    }
    if before.pg_statements is not None and after.pg_statements is not None:
        by_kind = _per_kind(before.pg_statements, after.pg_statements, step_runs)
        executed = sum(v for kind, v in by_kind.items() if kind not in TRANSACTION_CONTROL)
        result["statements"] = round(executed - own / step_runs, 2)
        result["statements_by_kind"] = by_kind
        result["statements_source"] = "pg_stat_statements"
    else:
        result["statements"] = result["cursor_calls"]
        result["statements_by_kind"] = calls
        result["statements_source"] = "django cursor calls"
    if before.pg is not None and after.pg is not None:
        delta = {key: after.pg[key] - before.pg[key] for key in after.pg}
        result["pg_transactions"] = round((delta["xact_commit"] - own) / step_runs, 2)
        for key in ("tup_inserted", "tup_updated", "tup_deleted"):
            result[f"pg_rows_{key.removeprefix('tup_')}"] = round(delta[key] / step_runs, 2)
    return result
