"""Replaying a workflow run: again from its input, or from a chosen step, in which case
the steps before it are not executed again and their recorded outputs are reused."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from workflows.engine.effects import Effects
from workflows.engine.runs import (
    check_overrides,
    mark_prefetched,
    run_or_404,
)
from workflows.engine.transitions import queue_step_run
from workflows.engine.versions import latest_version, steps_of
from workflows.models import (
    StepRun,
    StepRunStatus,
    WorkflowRun,
    WorkflowRunStatus,
)

REPLAY_TRIGGER = "replay"


def ancestors_of(parents: Mapping[str, Sequence[str]], step: str) -> set[str]:
    """Every step `step` waits for, directly or through other steps."""
    found: set[str] = set()
    waiting = list(parents[step])
    while waiting:
        name = waiting.pop()
        if name not in found:
            found.add(name)
            waiting.extend(parents[name])
    return found


def replay_workflow_run(
    tenant: Tenant,
    source_run_id: Any,
    *,
    from_step: str | None = None,
    input: Any = None,
    additional_metadata: Any = None,
    overrides: Any = None,
    trigger: str = REPLAY_TRIGGER,
) -> WorkflowRun:
    """A new run of the workflow's latest version made from a past run.

    Without `from_step` every step runs again on the source's input (or `input`).
    With it, the steps it depends on are created SUCCEEDED with the source run's
    outputs, and the chosen step, with every other step whose parents are all
    reused, is queued; all in one transaction. `overrides` default to the source
    run's; pass {} for the defaults in code.
    """
    source = run_or_404(tenant, source_run_id)
    version = latest_version(tenant, source.workflow.name)
    steps = steps_of(version.pk)
    parents = {step.name: list(step.parents) for step in steps}
    reused: set[str] = set()
    source_step_runs: dict[str, StepRun] = {}
    if from_step is not None:
        if from_step not in parents:
            raise InvalidRequest(
                f"Workflow {version.workflow.name} has no step '{from_step}' "
                f"(its steps: {', '.join(parents)}).",
                {"from_step": from_step},
            )
        if input is not None:
            raise InvalidRequest(
                "input cannot change when replaying from a step: the reused outputs "
                "were computed from the source run's input.",
                {"from_step": from_step},
            )
        reused = ancestors_of(parents, from_step)
        source_step_runs = {
            step_run.step.name: step_run
            for step_run in source.step_runs.select_related("step")
            if step_run.step.name in reused
        }
        for name in (step.name for step in steps if step.name in reused):
            step_run = source_step_runs.get(name)
            if step_run is None or step_run.status != StepRunStatus.SUCCEEDED:
                state = "missing" if step_run is None else step_run.status
                raise InvalidRequest(
                    f"Cannot replay from '{from_step}': step '{name}' of the source run "
                    f"has no output to reuse (it is {state}).",
                    {"from_step": from_step, "step": name, "status": state},
                )
    input = source.input if input is None else input
    metadata = source.additional_metadata if additional_metadata is None else additional_metadata
    overrides = (
        source.overrides if overrides is None else check_overrides(version, steps, overrides)
    )

    now = timezone.now()
    run = WorkflowRun(
        tenant=tenant,
        workflow=version.workflow,
        version=version,
        input=input,
        additional_metadata=metadata,
        overrides=overrides,
        trigger=trigger,
        created_at=now,
        # A run that starts with reused steps has already begun.
        status=WorkflowRunStatus.RUNNING if reused else WorkflowRunStatus.PENDING,
        started_at=now if reused else None,
        deadline=version.run_deadline(now),
    )
    effects = Effects()
    step_runs = []
    for step in steps:
        step_run = StepRun(
            tenant=tenant, workflow_run=run, step=step, action=step.action, created_at=now
        )
        if step.name in reused:
            # attempt stays 0: this run never executed it.
            recorded = source_step_runs[step.name]
            step_run.status = StepRunStatus.SUCCEEDED
            step_run.output = recorded.output
            step_run.playground = recorded.playground
            step_run.started_at = step_run.finished_at = now
        elif all(parent in reused for parent in step.parents):
            queue_step_run(step_run, now)
            effects.queued(step_run)
        mark_prefetched(step_run, "attempts", [])
        step_runs.append(step_run)
    effects.run_changed(run)
    with transaction.atomic():
        run.save(force_insert=True)
        StepRun.objects.bulk_create(step_runs)
        effects.announce()
    mark_prefetched(run, "step_runs", step_runs)
    return run
