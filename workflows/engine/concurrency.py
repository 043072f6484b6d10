"""Concurrency keys: at most `max_runs` runs per key go at once; the others wait
(created, PENDING, nothing queued) and go on in the order they came as runs of their
key finish. A key is computed from each run's input or metadata (`input.customer_id`);
workflows naming the same `scope` share the limit per key.

Strategies, when a run comes and its key is full:
- GROUP_ROUND_ROBIN: it waits its turn. No key takes more than its share, so one that
  floods cannot starve the others: their runs start as soon as they come.
- CANCEL_IN_PROGRESS: the oldest runs of the key are cancelled to make room for it.
- CANCEL_NEWEST: it is cancelled.

Every decision for a key is taken under that key's lock (an advisory lock on
PostgreSQL; SQLite runs one transaction at a time), in the transaction that started or
finished a run of it, from the key's unfinished runs as the database holds them.
"""

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from django.db import connection, transaction

from hatchet.errors import InvalidDefinition
from workflows.engine.locked import LockedRuns
from workflows.engine.paths import key_path, value_at
from workflows.engine.transitions import cancel_run, release_run
from workflows.models import WAITING_FOR_SLOT, WorkflowRun, WorkflowVersion

GROUP_ROUND_ROBIN = "GROUP_ROUND_ROBIN"
CANCEL_IN_PROGRESS = "CANCEL_IN_PROGRESS"
CANCEL_NEWEST = "CANCEL_NEWEST"
STRATEGIES = (GROUP_ROUND_ROBIN, CANCEL_IN_PROGRESS, CANCEL_NEWEST)
MAX_RUNS = 10_000
FIELDS = {"key", "max_runs", "strategy", "scope"}
# The longest key stored as it is; a longer one is stored as its hash.
MAX_KEY_LENGTH = 255
# Keys with waiting runs the tick looks at per pass.
TICK_KEYS = 100


def parse_concurrency(raw: Any) -> dict[str, Any] | None:
    """A definition's `concurrency`, checked (docs/protocol.md), or None."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidDefinition("concurrency must be an object.", {"field": "concurrency"})
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise InvalidDefinition(
            f"concurrency has unknown field(s): {', '.join(unknown)}.", {"fields": unknown}
        )
    key = raw.get("key")
    if not isinstance(key, str) or not key_path(key):
        raise InvalidDefinition(
            "concurrency.key must be a path into the run's input or metadata, such as "
            "'input.customer_id' or 'metadata.tenant'.",
            {"field": "concurrency.key", "value": key},
        )
    max_runs = raw.get("max_runs", 1)
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= MAX_RUNS:
        raise InvalidDefinition(
            f"concurrency.max_runs must be an integer from 1 to {MAX_RUNS}.",
            {"field": "concurrency.max_runs", "value": max_runs},
        )
    strategy = raw.get("strategy", GROUP_ROUND_ROBIN)
    if strategy not in STRATEGIES:
        raise InvalidDefinition(
            f"concurrency.strategy must be one of {', '.join(STRATEGIES)}.",
            {"field": "concurrency.strategy", "value": strategy},
        )
    scope = raw.get("scope")
    if scope is not None and (not isinstance(scope, str) or not 0 < len(scope) <= 200):
        raise InvalidDefinition(
            "concurrency.scope must be a name of 1 to 200 characters.",
            {"field": "concurrency.scope"},
        )
    return {"key": key, "max_runs": max_runs, "strategy": strategy, "scope": scope}


def parse_step_concurrency(raw: Any, where: str) -> dict[str, Any] | None:
    """A step's `concurrency`: how many of its step runs per key workers hold at once.
    They wait their turn in the queue (GROUP_ROUND_ROBIN); cancelling applies to runs."""
    config = parse_concurrency(raw)
    if config is not None and config["strategy"] != GROUP_ROUND_ROBIN:
        raise InvalidDefinition(
            f"{where}: a step's concurrency waits its turn (GROUP_ROUND_ROBIN); set "
            "CANCEL_IN_PROGRESS or CANCEL_NEWEST on the workflow.",
            {"field": "concurrency.strategy", "value": config["strategy"]},
        )
    return config


def run_key(config: Mapping[str, Any], workflow: str, input: Any, metadata: Any) -> str:
    """The key a run counts under: its scope (the workflow's name unless shared) and the
    value at the config's path (JSON; `null` when missing)."""
    value = value_at(config["key"], input, metadata)
    text = f"{config.get('scope') or workflow}:{json.dumps(value, sort_keys=True)}"
    if len(text) > MAX_KEY_LENGTH:
        return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
    return text


@functools.lru_cache(maxsize=1024)
def config_of(version_id: UUID) -> dict[str, Any] | None:
    definition = WorkflowVersion.objects.values_list("definition", flat=True).get(pk=version_id)
    concurrency: dict[str, Any] | None = definition.get("concurrency")
    return concurrency


def lock_key(tenant_id: Any, key: str) -> None:
    if connection.vendor == "postgresql":
        digest = hashlib.sha256(f"concurrency:{tenant_id}:{key}".encode()).digest()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
            )


def settle_keys(keys: Iterable[tuple[Any, str]]) -> None:
    """Start or cancel the waiting runs of these (tenant id, key)s as their strategies
    say, now that runs of them came or finished. Call inside the transaction that
    changed them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("settle_keys needs a transaction")
    for tenant_id, key in sorted(set(keys), key=str):
        lock_key(tenant_id, key)
        runs = list(
            WorkflowRun.objects.filter(
                tenant_id=tenant_id, concurrency_key=key, finished_at__isnull=True
            )
            .order_by("created_at", "id")
            .values_list("id", "waiting_for", "version_id")
        )
        waiting = [run_id for run_id, waits, _ in runs if waits == WAITING_FOR_SLOT]
        if not waiting:
            continue
        config = config_of(runs[-1][2]) or {}
        going = [run_id for run_id, waits, _ in runs if not waits]
        start, cancel = decide(config, going, waiting)
        if not start and not cancel:
            continue
        locked = LockedRuns([*start, *cancel], skip_locked=True)
        for run_id in cancel:
            run = locked.runs.get(run_id)
            if run is not None:
                error = f"Cancelled: concurrency key {key} ({config['strategy']})."
                cancel_run(locked, run, error=error)
        # A run to cancel that another transaction holds goes on, keeping its slot.
        cancelled = {run_id for run_id in cancel if run_id in locked.runs}
        room = config["max_runs"] - sum(1 for run_id in going if run_id not in cancelled)
        for run_id in start:
            run = locked.runs.get(run_id)
            if run is not None and room > 0 and run.waiting_for == WAITING_FOR_SLOT:
                release_run(locked, run)
                room -= 1
        # This pass settled the key: the runs it cancelled free nothing more.
        locked.freed_keys.clear()
        locked.flush()


def decide(
    config: Mapping[str, Any], going: list[UUID], waiting: list[UUID]
) -> tuple[list[UUID], list[UUID]]:
    """The waiting runs to start and the runs to cancel, oldest first in each list."""
    room = max(config["max_runs"] - len(going), 0)
    strategy = config["strategy"]
    if strategy == CANCEL_IN_PROGRESS:
        # The newest runs of the key keep it, going or waiting.
        kept = set([*going, *waiting][-config["max_runs"] :])
        return [r for r in waiting if r in kept], [r for r in [*going, *waiting] if r not in kept]
    if strategy == CANCEL_NEWEST:
        return waiting[:room], waiting[room:]
    return waiting[:room], []


def settle_waiting_keys() -> int:
    """The tick's part: keys with waiting runs (a run that finished while its key's
    settling failed, or one released by a resume elsewhere), settled; how many."""
    keys = list(
        WorkflowRun.objects.filter(waiting_for=WAITING_FOR_SLOT)
        # Without the runs' default order, which DISTINCT would count in: a key per
        # waiting run, a sort of them all, and TICK_KEYS runs for TICK_KEYS keys.
        .order_by()
        .values_list("tenant_id", "concurrency_key")
        .distinct()[:TICK_KEYS]
    )
    if keys:
        with transaction.atomic():
            settle_keys(keys)
    return len(keys)
