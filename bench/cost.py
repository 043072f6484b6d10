"""Cost per step run: counted database work, differenced around a phase.

Two counts, both taken before and after the phase and divided by the step runs that
succeeded between the two snapshots:
- `statements`: SQL statements the server processes sent through Django's cursors (every
  SELECT, INSERT, UPDATE, DELETE, SAVEPOINT ...; BEGIN/COMMIT are not cursor statements),
  counted exactly by bench/counting_server.py. Works on PostgreSQL and SQLite.
- PostgreSQL only, from `pg_stat_database` for the run's own database: committed
  transactions (the harness's own read-only statements are subtracted) and rows inserted,
  updated and deleted. PostgreSQL backends flush these counters about once a second, so
  they are exact over a long phase and approximate over a short one.
Both include everything the servers do meanwhile: the trigger requests, heartbeats,
the ticker and the dispatcher's polls.
"""

import time
from dataclasses import dataclass
from typing import Any

from bench.database import Database
from bench.stack import HatchetStack

# PostgreSQL backends report their counters when idle for about a second.
PG_STATS_SETTLE = 1.5


@dataclass
class Snapshot:
    at: float
    statements: dict[str, int]
    own_statements: int
    pg: dict[str, int] | None


def snapshot(stack: HatchetStack) -> Snapshot:
    db = stack.db
    if db.is_postgres:
        time.sleep(PG_STATS_SETTLE)
    return Snapshot(
        at=time.time(),
        statements=stack.statement_counts(),
        own_statements=db.statements,
        pg=db.pg_counters() if db.is_postgres else None,
    )


def per_step_run(db: Database, workflow: str, before: Snapshot, after: Snapshot) -> dict[str, Any]:
    step_runs = db.succeeded_step_runs(workflow, before.at, after.at)
    if step_runs == 0:
        return {"step_runs": 0}
    by_kind = {
        kind: round((after.statements.get(kind, 0) - before.statements.get(kind, 0)) / step_runs, 2)
        for kind in sorted(set(after.statements) | set(before.statements))
    }
    result: dict[str, Any] = {
        "step_runs": step_runs,
        "statements": round(sum(by_kind.values()), 2),
        "statements_by_kind": {kind: value for kind, value in by_kind.items() if value},
    }
    if before.pg is not None and after.pg is not None:
        delta = {key: after.pg[key] - before.pg[key] for key in after.pg}
        # Every statement of the harness runs in autocommit: one transaction each.
        own = after.own_statements - before.own_statements
        result["pg_transactions"] = round((delta["xact_commit"] - own) / step_runs, 2)
        for key in ("tup_inserted", "tup_updated", "tup_deleted"):
            result[f"pg_rows_{key.removeprefix('tup_')}"] = round(delta[key] / step_runs, 2)
    return result
