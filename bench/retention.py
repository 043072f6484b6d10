"""`python -m bench.retention`: the runs tables with many finished runs in PostgreSQL.

On a fresh database it times the runs list API, the queue's claim and a pass of history
retention while the tables are empty, fills them with N finished runs (each with a step
run and a log line, spread over the last 120 days, inserted by generate_series), and
times the same again, with the indexes PostgreSQL chose for each. In-process: the
engine's functions and the API's views are called directly, with no server."""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from bench.livestack import create_fresh_database, manage
from bench.processes import BenchError

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hatchet_retention_bench"
SPAN_DAYS = 120
RETENTION_DAYS = 90
QUEUED_RUNS = 200
CLAIM_SLOTS = 10
REPEATS = 5
# Runs per INSERT statement: each is one transaction, and its progress is printed.
FILL_CHUNK = 500_000


def median_ms(measure: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, float]:
    """The median and the spread (max - min) of `repeats` timings, in ms."""
    samples = []
    # One untimed call first: the first of a process compiles and connects.
    measure()
    for _ in range(repeats):
        started = time.perf_counter()
        measure()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples) - min(samples)


def indexes_in(plan: Any) -> Iterator[str]:
    """The indexes a JSON plan scans, and "Seq Scan on <table>" for a sequential scan."""
    if isinstance(plan, dict):
        if "Index Name" in plan:
            yield plan["Index Name"]
        elif plan.get("Node Type") == "Seq Scan":
            yield f"Seq Scan on {plan['Relation Name']}"
        for value in plan.values():
            yield from indexes_in(value)
    elif isinstance(plan, list):
        for value in plan:
            yield from indexes_in(value)


def plan_of(queryset: Any) -> str:
    return ", ".join(dict.fromkeys(indexes_in(json.loads(queryset.explain(format="json")))))


class Bench:
    """The tenant, its workflow and token, and the measurements, once Django is set up."""

    def __init__(self) -> None:
        from hatchet.models import APIToken, Tenant, TokenRole
        from workflows.engine.definitions import register_workflow

        self.tenant = Tenant.objects.create(
            slug="bench", name="Bench", retention_days=RETENTION_DAYS
        )
        self.version, _ = register_workflow(
            self.tenant, {"name": "BenchNoop", "steps": [{"name": "noop", "parents": []}]}
        )
        _, self.secret = APIToken.issue(self.tenant, "bench", TokenRole.VIEWER)

    def measure(self, archive_dir: str) -> dict[str, tuple[float, float, str]]:
        """{row: (median ms, spread ms, indexes)}."""
        from django.conf import settings
        from django.test import Client
        from django.utils import timezone

        from hatchet.api import CappedCountPagination
        from workflows.engine import retention
        from workflows.engine.queue import claim_queued_step_runs
        from workflows.engine.runs import trigger_workflow_run
        from workflows.models import WorkflowRun

        client = Client(HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        runs = WorkflowRun.objects.filter(tenant=self.tenant).order_by("-created_at", "-id")
        rows: dict[str, tuple[float, float, str]] = {}
        for label, query, listed in [
            ("runs list, first page (limit 50)", "", runs),
            ("runs list, FAILED only", "&status=FAILED", runs.filter(status="FAILED")),
        ]:

            def get(query: str = query) -> None:
                answer = client.get(f"/api/v1/runs?limit=50{query}")
                if answer.status_code != 200:
                    raise BenchError(f"GET /api/v1/runs: {answer.content[:300]!r}")

            rows[label] = (*median_ms(get), plan_of(listed[:50]))
            capped = listed[: CappedCountPagination.COUNT_LIMIT + 1]
            rows[f"{label}: its count (capped at {CappedCountPagination.COUNT_LIMIT:,})"] = (
                *median_ms(capped.count),
                plan_of(capped.values("id")),
            )

        for _ in range(QUEUED_RUNS):
            trigger_workflow_run(self.tenant, "BenchNoop", {})

        def claim() -> None:
            claimed = claim_queued_step_runs(
                tenant_id=self.tenant.id,
                worker_id=uuid.uuid4(),
                worker_name="bench",
                actions=["BenchNoop:noop"],
                slots=CLAIM_SLOTS,
            )
            if len(claimed) != CLAIM_SLOTS:
                raise BenchError(f"claimed {len(claimed)} step runs, not {CLAIM_SLOTS}")

        rows[f"claim {CLAIM_SLOTS} queued step runs"] = (*median_ms(claim), "")

        now = timezone.now()
        cutoff = now - timedelta(days=RETENTION_DAYS)
        size = settings.HATCHET_RETENTION_BATCH_SIZE
        candidates = retention.after_key(retention.expired_roots(self.tenant, cutoff, []), None)

        def prune() -> None:
            retention.prune_tenant(self.tenant, now, max_batches=1)

        rows[f"retention: one batch of {size} runs"] = (
            *median_ms(prune),
            plan_of(candidates[:size]),
        )
        settings.HATCHET_RETENTION_ARCHIVE_DIR = archive_dir
        rows[f"retention: one batch of {size} runs, archived"] = (*median_ms(prune), "")
        settings.HATCHET_RETENTION_ARCHIVE_DIR = ""
        return rows

    def fill(self, url: str, count: int) -> None:
        """`count` finished runs, one in 20 failed, spread evenly over the last SPAN_DAYS
        days, each with a succeeded step run and a log line."""
        import psycopg

        step = self.version.steps.get()
        values = {
            "tenant": self.tenant.id,
            "workflow": self.version.workflow_id,
            "version": self.version.id,
            "step": step.id,
            "action": step.action,
            "span": SPAN_DAYS * 86400.0,
            "count": count,
        }
        with psycopg.connect(url, autocommit=True) as connection:
            for first in range(1, count + 1, FILL_CHUNK):
                last = min(first + FILL_CHUNK - 1, count)
                started = time.monotonic()
                connection.execute(FILL_SQL, {**values, "first": first, "last": last})
                print(
                    f"  runs {first:,}-{last:,} inserted in {time.monotonic() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            started = time.monotonic()
            connection.execute("VACUUM ANALYZE")
            print(f"  VACUUM ANALYZE {time.monotonic() - started:.0f} s", file=sys.stderr)


# One statement per chunk: the runs, then a step run and a log line for each. Run i was
# created i/count of the span ago and finished a second later.
FILL_SQL = """
WITH runs AS (
    INSERT INTO workflows_workflowrun (
        id, tenant_id, workflow_id, version_id, status, input, additional_metadata,
        overrides, trigger, priority, waiting_for, concurrency_key, error, created_at,
        started_at, finished_at, deadline, event_id, cron_id, scheduled_run_id,
        fire_time, parent_step_run_id, spawn_key
    )
    SELECT gen_random_uuid(), %(tenant)s, %(workflow)s, %(version)s,
        CASE WHEN i %% 20 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END,
        jsonb_build_object('ticket', i), '{}', '{}', 'api', 1, '', '',
        CASE WHEN i %% 20 = 0 THEN 'boom' ELSE '' END,
        at, at, at + interval '1 second', NULL, NULL, NULL, NULL, NULL, NULL, ''
    FROM generate_series(%(first)s::int, %(last)s::int) AS i,
        LATERAL (SELECT now() - make_interval(secs => %(span)s * i / %(count)s) AS at) t
    RETURNING id, status, created_at
), step_runs AS (
    INSERT INTO workflows_steprun (
        id, tenant_id, workflow_run_id, step_id, action, status, attempt, retry_count,
        requeue_count, worker_id, output, error, playground, usage, created_at, queued_at,
        available_at, priority, constrained, concurrency_key, ranked_at, started_at,
        finished_at, deadline
    )
    SELECT gen_random_uuid(), %(tenant)s, id, %(step)s, %(action)s, status, 1, 0, 0, NULL,
        '{"ok": true}', '', '[]', NULL, created_at, created_at, created_at, 1, false, '',
        created_at, created_at, created_at + interval '1 second', NULL
    FROM runs
    RETURNING id, created_at
)
INSERT INTO workflows_steprunline (step_run_id, attempt, kind, seq, level, text, created_at)
SELECT id, 1, 'log', 0, 'INFO', 'done', created_at FROM step_runs
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000, help="finished runs to insert")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_URL, help="the database to (re)create and fill"
    )
    args = parser.parse_args(argv)

    create_fresh_database(args.postgres_url)
    env = {**os.environ, "DATABASE_URL": args.postgres_url}
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--no-input")
    os.environ["DATABASE_URL"] = args.postgres_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hatchet.settings")
    import django

    django.setup()

    bench = Bench()
    with tempfile.TemporaryDirectory() as archive_dir:
        empty = bench.measure(archive_dir)
        print(f"filling {args.runs:,} finished runs", file=sys.stderr, flush=True)
        bench.fill(args.postgres_url, args.runs)
        full = bench.measure(archive_dir)
    print(format_rows(empty, full, args.runs))


def format_rows(
    empty: dict[str, tuple[float, float, str]],
    full: dict[str, tuple[float, float, str]],
    count: int,
) -> str:
    header = ("", "empty, ms", f"{count:,} runs, ms", f"indexes with {count:,} runs")
    lines = [
        (
            label,
            f"{empty[label][0]:.1f} ±{empty[label][1]:.1f}",
            f"{full[label][0]:.1f} ±{full[label][1]:.1f}",
            full[label][2],
        )
        for label in full
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]
    return "\n".join(
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *lines]
    )


if __name__ == "__main__":
    main()
