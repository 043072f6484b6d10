"""Cancelling or replaying every run a filter matches (the runs list's filters), in
batches, each batch in one transaction."""

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from workflows.engine.locked import LockedRuns
from workflows.engine.replays import REPLAY_TRIGGER
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.engine.transitions import cancel_run
from workflows.models import WORKFLOW_RUN_TERMINAL, WorkflowRun

# The most runs one bulk operation takes: beyond it, narrow the filter.
MAX_BULK_RUNS = 10_000
BATCH = 500


def matching_ids(runs: QuerySet[WorkflowRun]) -> list[Any]:
    """The ids of the runs, oldest first; InvalidRequest beyond MAX_BULK_RUNS."""
    ids = list(runs.order_by("created_at", "id").values_list("id", flat=True)[: MAX_BULK_RUNS + 1])
    if len(ids) > MAX_BULK_RUNS:
        raise InvalidRequest(
            f"The filter matches more than {MAX_BULK_RUNS} runs: narrow it (by status, "
            "workflow, time or metadata) and repeat.",
            {"limit": MAX_BULK_RUNS},
        )
    return ids


def cancel_matching(runs: QuerySet[WorkflowRun]) -> dict[str, int]:
    """Cancel every unfinished run among them; how many matched and were cancelled."""
    ids = matching_ids(runs)
    cancelled = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            locked = LockedRuns(ids[start : start + BATCH])
            for run in locked.runs.values():
                if run.status not in WORKFLOW_RUN_TERMINAL:
                    cancel_run(locked, run)
                    cancelled += 1
            locked.flush()
    return {"matched": len(ids), "cancelled": cancelled}


def replay_matching(tenant: Tenant, runs: QuerySet[WorkflowRun]) -> dict[str, Any]:
    """A new run of each, from its input, metadata, overrides and priority, on its
    workflow's latest version; each workflow's replays in one transaction."""
    ids = matching_ids(runs)
    sources: dict[str, list[RunRequest]] = defaultdict(list)
    for start in range(0, len(ids), BATCH):
        batch = (
            WorkflowRun.objects.filter(pk__in=ids[start : start + BATCH])
            .select_related("workflow")
            .order_by("created_at", "id")
        )
        for run in batch:
            sources[run.workflow.name].append(
                RunRequest(run.input, run.additional_metadata, run.overrides, run.priority)
            )
    replays = [
        replay
        for workflow, requests in sources.items()
        for replay in trigger_workflow_runs(
            tenant, workflow, requests, trigger=REPLAY_TRIGGER, details=False
        )
    ]
    return {"matched": len(ids), "replayed": len(replays)}
