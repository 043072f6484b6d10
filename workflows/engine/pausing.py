"""Pausing a workflow: its new runs wait (created, PENDING, nothing queued) until it
resumes; crons, schedules and events keep starting runs into the wait; resuming
releases them in the order they came. Runs already going when it paused go on."""

from typing import Any

from django.db import transaction

from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.engine.concurrency import settle_keys
from workflows.engine.locked import LockedRuns
from workflows.engine.transitions import release_run
from workflows.engine.versions import forget_latest_version
from workflows.models import WAITING_FOR_RESUME, WAITING_FOR_SLOT, Workflow, WorkflowRun

# Runs released per transaction.
RELEASE_BATCH = 500


def set_paused(tenant: Tenant, name: str, *, paused: bool) -> Workflow:
    """Pause or resume the workflow (doing it twice changes nothing); a resume releases
    the runs that waited for it before answering."""
    workflow = get_or_404(
        Workflow.objects.filter(tenant=tenant),
        f"Workflow '{name}' is not registered.",
        details={"workflow": name},
        name=name,
    )
    with transaction.atomic():
        Workflow.objects.filter(pk=workflow.pk).update(is_paused=paused)
        # Now for this process's triggers, and again once the others can see it.
        forget_latest_version(tenant.pk, name)
        transaction.on_commit(lambda: forget_latest_version(tenant.pk, name))
    workflow.is_paused = paused
    if not paused:
        release_waiting_runs(workflow.pk)
    return workflow


def release_waiting_runs(workflow_id: Any = None) -> int:
    """Release the runs waiting for a resume of workflows no longer paused (of one, or
    of all: the tick's pass catches a run that another process held back after a
    resume, having seen the pause a moment late), oldest first; how many."""
    released = 0
    while True:
        waiting = WorkflowRun.objects.filter(
            waiting_for=WAITING_FOR_RESUME, workflow__is_paused=False
        )
        if workflow_id is not None:
            waiting = waiting.filter(workflow_id=workflow_id)
        run_ids = list(waiting.order_by("created_at").values_list("id", flat=True)[:RELEASE_BATCH])
        if not run_ids:
            return released
        with transaction.atomic():
            locked = LockedRuns(run_ids, skip_locked=True)
            keyed = set()
            for run in sorted(locked.runs.values(), key=lambda run: run.created_at):
                if run.waiting_for != WAITING_FOR_RESUME:
                    continue
                released += 1
                if run.concurrency_key:
                    # Its key decides now, as for a run just triggered.
                    run.waiting_for = WAITING_FOR_SLOT
                    locked.changed(run)
                    keyed.add((run.tenant_id, run.concurrency_key))
                else:
                    release_run(locked, run)
            locked.flush()
            settle_keys(keyed)
        if len(locked.runs) < len(run_ids):
            # Another process holds some of them (a cancel, or its own release): this
            # pass leaves them to it, or to the next.
            return released
