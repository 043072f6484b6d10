"""Starting and cancelling workflow runs."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from hatchet.db import pipelined
from hatchet.errors import Conflict, InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.engine.concurrency import run_key, settle_keys
from workflows.engine.effects import Effects
from workflows.engine.idempotency import take_keys
from workflows.engine.locked import LockedRuns
from workflows.engine.rowio import insert_rows, mark_prefetched, new_instance
from workflows.engine.transitions import cancel_run, queue_step_run, retry_run
from workflows.engine.versions import latest_version, steps_of
from workflows.models import (
    DEFAULT_PRIORITY,
    WAITING_FOR_RESUME,
    WAITING_FOR_SLOT,
    IdempotencyKey,
    Step,
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowVersion,
)


def check_overrides(
    version: WorkflowVersion, steps: list[Step], overrides: Any
) -> dict[str, dict[str, Any]]:
    if overrides is None:
        return {}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise InvalidRequest("overrides must map step names to objects of variable values.")
    unknown = sorted(set(overrides) - {step.name for step in steps})
    if unknown:
        raise InvalidRequest(
            f"overrides name unknown step(s) of {version.workflow.name}: {', '.join(unknown)}.",
            {"steps": unknown},
        )
    return overrides


@dataclass(frozen=True)
class RunRequest:
    """What one new run is asked for: its input, metadata and overrides."""

    input: Any = None
    additional_metadata: Any = None
    overrides: Any = None
    # 1-4; None: the workflow's (its definition's `priority`, else DEFAULT_PRIORITY).
    priority: int | None = None
    # What started the run, as WorkflowRun fields: event, cron or scheduled_run (with
    # the fire_time it was due at).
    links: dict[str, Any] | None = None
    # A run triggered with this key within the window answers instead (idempotency.py).
    idempotency_key: str | None = None


RUN_KEY = IdempotencyKey.Scope.RUN


def trigger_workflow_runs(
    tenant: Tenant,
    workflow_name: str,
    requests: Sequence[RunRequest],
    *,
    trigger: str = "api",
    details: bool = True,
) -> list[WorkflowRun]:
    """Create runs of the workflow's latest version with their root steps queued, all
    in one transaction: every request is checked before anything is written. With
    `details`, each run's step runs are attached for an answer with its detail."""
    version = latest_version(tenant, workflow_name)
    steps = steps_of(version.pk)
    now = timezone.now()
    checked = [
        replace(request, overrides=check_overrides(version, steps, request.overrides))
        for request in requests
    ]
    if not any(request.idempotency_key for request in checked):
        effects = Effects()
        built = build_runs(tenant, version, steps, now, effects, checked, trigger)
        return insert_runs(built, effects, details=details)
    with transaction.atomic():
        batch = take_keys(tenant.pk, RUN_KEY, [r.idempotency_key for r in checked], now)
        effects = Effects()
        built = build_runs(tenant, version, steps, now, effects, batch.fresh(checked), trigger)
        made = insert_runs(built, effects, details=details)
        batch.record(tenant.pk, RUN_KEY, [run.pk for run in made])
        earlier = runs_by_id(tenant, version.workflow.name, batch.earlier.values(), details=details)
    return batch.answer(made, earlier)


def build_runs(
    tenant: Tenant,
    version: WorkflowVersion,
    steps: list[Step],
    now: datetime,
    effects: Effects,
    requests: Sequence[RunRequest],
    trigger: str,
) -> list[tuple[WorkflowRun, list[StepRun]]]:
    return [
        new_run(
            tenant,
            version,
            steps,
            # A microsecond apart, so that the runs keep the order they were asked in
            # wherever they are ordered by creation (a concurrency key's turns, lists).
            now + timedelta(microseconds=index),
            effects,
            request,
            trigger=trigger,
        )
        for index, request in enumerate(requests)
    ]


def runs_by_id(
    tenant: Tenant, workflow_name: str, run_ids: Iterable[Any], *, details: bool
) -> dict[Any, WorkflowRun]:
    """The runs earlier calls made for their keys, which must be of this workflow."""
    runs = WorkflowRun.objects.filter(tenant=tenant, pk__in=list(run_ids)).select_related(
        "workflow"
    )
    if details:
        runs = runs.prefetch_related("step_runs__attempts")
    found = {run.pk: run for run in runs}
    for run in found.values():
        if run.workflow.name != workflow_name:
            raise Conflict(
                f"This idempotency key started a run of {run.workflow.name}, not of "
                f"{workflow_name}.",
                {"run": str(run.pk), "workflow": run.workflow.name},
            )
    return found


def new_run(
    tenant: Tenant,
    version: WorkflowVersion,
    steps: list[Step],
    now: datetime,
    effects: Effects,
    request: RunRequest,
    *,
    trigger: str,
    reused: Mapping[str, StepRun] | None = None,
) -> tuple[WorkflowRun, list[StepRun]]:
    """A new run of `version` with its step runs, in memory (`request.overrides` already
    checked). The steps named in `reused` are SUCCEEDED with those step runs' outputs;
    every step whose parents are all reused (the roots, when none is) is queued, but
    the on-failure step, which waits for a failure, and none while the workflow is
    paused or while the run waits for its concurrency key to decide (insert_runs); the
    announcements go to `effects`."""
    reused = reused or {}
    input = {} if request.input is None else request.input
    metadata = {} if request.additional_metadata is None else request.additional_metadata
    concurrency = version.definition.get("concurrency")
    run = new_instance(
        WorkflowRun,
        tenant=tenant,
        workflow=version.workflow,
        version=version,
        input=input,
        additional_metadata=metadata,
        overrides={} if request.overrides is None else request.overrides,
        trigger=trigger,
        priority=request.priority or version.definition.get("priority") or DEFAULT_PRIORITY,
        # The pause is read with the version: a pause reaches this process's triggers at
        # once, the others' within LATEST_VERSION_SECONDS (the tick releases the runs
        # they hold back after a resume).
        waiting_for=WAITING_FOR_RESUME if version.workflow.is_paused else "",
        concurrency_key=(
            ""
            if concurrency is None
            else run_key(concurrency, version.workflow.name, input, metadata)
        ),
        created_at=now,
        deadline=version.run_deadline(now),
        **(request.links or {}),
    )
    if run.concurrency_key and not run.waiting_for:
        # Its key decides, once the run is written (insert_runs).
        run.waiting_for = WAITING_FOR_SLOT
    if run.waiting_for:
        # The run's time starts when it goes on (release_run).
        run.deadline = None
    if reused:
        # A run that starts with reused steps has already begun.
        run.status = WorkflowRunStatus.RUNNING
        run.started_at = now
    step_runs = []
    for step in steps:
        step_run = new_instance(
            StepRun,
            tenant=tenant,
            workflow_run=run,
            step=step,
            action=step.action,
            priority=run.priority,
            constrained=bool(step.desired_worker_labels or step.sticky or step.concurrency),
            concurrency_key=(
                ""
                if step.concurrency is None
                else run_key(
                    step.concurrency, f"{version.workflow.name}.{step.name}", input, metadata
                )
            ),
            created_at=now,
        )
        recorded = reused.get(step.name)
        if recorded is not None:
            # attempt stays 0: this run never executed it.
            step_run.status = StepRunStatus.SUCCEEDED
            step_run.output = recorded.output
            step_run.playground = recorded.playground
            step_run.started_at = step_run.finished_at = now
        elif (
            not run.waiting_for
            and not step.is_on_failure
            and all(parent in reused for parent in step.parents)
        ):
            queue_step_run(step_run, now)
            effects.queued(step_run)
        step_runs.append(step_run)
    effects.run_changed(run)
    return run, step_runs


def insert_runs(
    built: list[tuple[WorkflowRun, list[StepRun]]], effects: Effects, *, details: bool
) -> list[WorkflowRun]:
    """Write new runs with their step runs in one transaction and announce them after
    it. With `details`, each run's step runs are attached for an answer with its detail
    (a cost worth skipping for many runs answered with less)."""
    # Pipelined: the inserts and the assignment of the queued steps (in the queueing
    # signal) reach PostgreSQL together.
    with transaction.atomic(), pipelined():
        insert_rows(WorkflowRun, [run for run, _ in built])
        insert_rows(StepRun, [step_run for _, step_runs in built for step_run in step_runs])
        effects.announce()
        settle_keys(
            (run.tenant_id, run.concurrency_key)
            for run, _ in built
            if run.waiting_for == WAITING_FOR_SLOT
        )
    if details:
        # Callers answering with a run's detail read it from here, not the database;
        # attached after the writes, so that a trigger of its own commits sooner.
        for run, step_runs in built:
            mark_prefetched(run, "step_runs", step_runs)
            for step_run in step_runs:
                mark_prefetched(step_run, "attempts", [])
    return [run for run, _ in built]


def trigger_workflow_run(
    tenant: Tenant,
    workflow_name: str,
    input: Any = None,
    *,
    additional_metadata: Any = None,
    overrides: Any = None,
    priority: int | None = None,
    trigger: str = "api",
    idempotency_key: str | None = None,
) -> WorkflowRun:
    """Create one run of the workflow's latest version with its root steps queued."""
    request = RunRequest(
        input, additional_metadata, overrides, priority, idempotency_key=idempotency_key
    )
    [run] = trigger_workflow_runs(tenant, workflow_name, [request], trigger=trigger)
    return run


def run_or_404(tenant: Tenant, run_id: Any) -> WorkflowRun:
    return get_or_404(
        WorkflowRun.objects.filter(tenant=tenant), "Workflow run not found.", pk=run_id
    )


def cancel_workflow_run(tenant: Tenant, run_id: Any) -> WorkflowRun:
    """Cancel a run: pending and queued steps are cancelled, running ones told to stop.
    Cancelling a finished run changes nothing."""
    run = run_or_404(tenant, run_id)
    with transaction.atomic():
        locked = LockedRuns([run.pk])
        cancel_run(locked, locked.runs[run.pk])
        locked.flush()
    return locked.runs[run.pk]


def retry_workflow_run(tenant: Tenant, run_id: Any) -> WorkflowRun:
    """Run a failed or cancelled run again from the steps that did not succeed; the
    same run goes on, with its history of attempts kept."""
    run = run_or_404(tenant, run_id)
    with transaction.atomic():
        locked = LockedRuns([run.pk])
        run = locked.runs[run.pk]
        if run.status not in (WorkflowRunStatus.FAILED, WorkflowRunStatus.CANCELLED):
            raise Conflict(
                f"Only a failed or cancelled run can be retried; this one is {run.status}.",
                {"status": run.status},
            )
        retry_run(locked, run)
        locked.flush()
    return run
