"""Replaying a workflow run: again from its input, or from a chosen step, in which case
the steps before it are not executed again and their recorded outputs are reused."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import timezone

from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from workflows.engine.effects import Effects
from workflows.engine.runs import (
    RunRequest,
    check_overrides,
    insert_runs,
    new_run,
    run_or_404,
)
from workflows.engine.versions import latest_version, steps_of
from workflows.models import Step, StepRun, StepRunStatus, WorkflowRun, WorkflowVersion

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
    reused = (
        {} if from_step is None else reusable_step_runs(source, version, steps, from_step, input)
    )
    request = RunRequest(
        source.input if input is None else input,
        source.additional_metadata if additional_metadata is None else additional_metadata,
        source.overrides if overrides is None else check_overrides(version, steps, overrides),
        source.priority,
    )
    effects = Effects()
    built = new_run(
        tenant, version, steps, timezone.now(), effects, request, trigger=trigger, reused=reused
    )
    [run] = insert_runs([built], effects, details=True)
    return run


def reusable_step_runs(
    source: WorkflowRun,
    version: WorkflowVersion,
    steps: list[Step],
    from_step: str,
    input: Any,
) -> dict[str, StepRun]:
    """The source's step runs whose outputs a replay from `from_step` reuses (the steps
    it depends on), by step name; InvalidRequest if one has no output to reuse."""
    parents = {step.name: list(step.parents) for step in steps}
    if from_step not in parents:
        raise InvalidRequest(
            f"Workflow {version.workflow.name} has no step '{from_step}' "
            f"(its steps: {', '.join(parents)}).",
            {"from_step": from_step},
        )
    if next(step for step in steps if step.name == from_step).is_on_failure:
        raise InvalidRequest(
            f"Cannot replay from '{from_step}': it is the on-failure step, which runs "
            "only when another step fails.",
            {"from_step": from_step},
        )
    if input is not None:
        raise InvalidRequest(
            "input cannot change when replaying from a step: the reused outputs "
            "were computed from the source run's input.",
            {"from_step": from_step},
        )
    reused = ancestors_of(parents, from_step)
    recorded = {
        step_run.step.name: step_run
        for step_run in source.step_runs.select_related("step")
        if step_run.step.name in reused
    }
    for name in (step.name for step in steps if step.name in reused):
        step_run = recorded.get(name)
        if step_run is None or step_run.status != StepRunStatus.SUCCEEDED:
            state = "missing" if step_run is None else step_run.status
            raise InvalidRequest(
                f"Cannot replay from '{from_step}': step '{name}' of the source run "
                f"has no output to reuse (it is {state}).",
                {"from_step": from_step, "step": name, "status": state},
            )
    return recorded
