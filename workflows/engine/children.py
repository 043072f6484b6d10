"""Child workflow runs: a step run spawns runs linked to it, each under a key.

A key names the child within its parent step run: spawning again under a key (the
step's retry, a durable step's replay, a request re-sent after a lost answer) answers
with the run that key made, and makes nothing. The SDK numbers the spawns a step makes
when it names no key, so a step that spawns the same children in the same order never
spawns twice. Cancelling a run cancels the children its steps spawned (locked.py)."""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction

from hatchet.errors import InvalidRequest, NotFound
from hatchet.models import Tenant
from workflows.engine.durable import NonDeterministic, run_outcomes
from workflows.engine.locked import LockedRuns
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import STEP_RUN_HELD, StepRun, WorkflowRun

MAX_SPAWN_KEY = 255
MAX_CHILDREN_PER_REQUEST = 1000


@dataclass(frozen=True)
class ChildRequest:
    workflow: str
    key: str
    run: RunRequest


def checked_children(raw: Any) -> list[ChildRequest]:
    """The children a spawn asks for; raises InvalidRequest."""
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_CHILDREN_PER_REQUEST:
        raise InvalidRequest(
            f"'children' must be a list of 1 to {MAX_CHILDREN_PER_REQUEST} children."
        )
    children = []
    for index, item in enumerate(raw):
        where = f"children[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{where} must be an object.")
        workflow, key = item.get("workflow"), item.get("key")
        if not isinstance(workflow, str) or not workflow:
            raise InvalidRequest(f"{where}: 'workflow' must name a workflow.")
        if not isinstance(key, str) or not 0 < len(key) <= MAX_SPAWN_KEY:
            raise InvalidRequest(f"{where}: 'key' must be 1 to {MAX_SPAWN_KEY} characters.")
        metadata = item.get("additional_metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidRequest(f"{where}: 'additional_metadata' must be an object.")
        children.append(
            ChildRequest(
                workflow,
                key,
                RunRequest(item.get("input"), metadata, item.get("overrides")),
            )
        )
    keys = [child.key for child in children]
    if len(set(keys)) < len(keys):
        raise InvalidRequest("Each child of a spawn needs a key of its own.")
    return children


def spawn_children(
    tenant: Tenant, worker_id: UUID, step_run_id: UUID, attempt: int, raw: Any
) -> list[WorkflowRun] | None:
    """The child runs of the step run under these keys, made where none exists yet;
    None when the attempt is over for the server (the worker must not go on)."""
    children = checked_children(raw)
    with transaction.atomic():
        # The parent's run stays locked until the children are written: a cancel of the
        # parent waits, then finds them; two spawns under one key are one after the other.
        locked = LockedRuns(of_step_runs=(tenant.pk, [step_run_id]))
        step_run = locked.step_runs.get(step_run_id)
        if step_run is None:
            raise NotFound("Unknown step run.")
        if (
            step_run.attempt != attempt
            or step_run.status not in STEP_RUN_HELD
            or step_run.worker_id != worker_id
        ):
            return None
        made = {
            run.spawn_key: run
            for run in WorkflowRun.objects.filter(
                parent_step_run_id=step_run.pk, spawn_key__in=[c.key for c in children]
            ).select_related("workflow")
        }
        for child in children:
            earlier = made.get(child.key)
            if earlier is not None and earlier.workflow.name != child.workflow:
                raise NonDeterministic(
                    f"Step '{step_run.step.name}' spawned a run of {earlier.workflow.name} "
                    f"under key {child.key!r} before, and asks for {child.workflow} under "
                    "it now: give each child a key of its own, the same every time.",
                    {"key": child.key, "run": str(earlier.pk)},
                )
        fresh: dict[str, list[ChildRequest]] = defaultdict(list)
        for child in children:
            if child.key not in made:
                fresh[child.workflow].append(child)
        for workflow, its_children in fresh.items():
            runs = trigger_workflow_runs(
                tenant,
                workflow,
                [linked(child, step_run) for child in its_children],
                trigger="spawn",
                details=False,
            )
            made.update((child.key, run) for child, run in zip(its_children, runs, strict=True))
    return [made[child.key] for child in children]


def linked(child: ChildRequest, parent: StepRun) -> RunRequest:
    return RunRequest(
        child.run.input,
        child.run.additional_metadata,
        child.run.overrides,
        links={"parent_step_run_id": parent.pk, "spawn_key": child.key},
    )


def children_outcomes(tenant_id: UUID, step_run_id: UUID, run_ids: Any) -> dict[str, Any]:
    """How the step run's children among `run_ids` ended, for those that have."""
    if not isinstance(run_ids, list) or len(run_ids) > MAX_CHILDREN_PER_REQUEST:
        raise InvalidRequest(f"'runs' must list at most {MAX_CHILDREN_PER_REQUEST} run ids.")
    try:
        wanted = {UUID(str(run_id)) for run_id in run_ids}
    except ValueError:
        raise InvalidRequest("'runs' must be workflow run ids.") from None
    children = WorkflowRun.objects.filter(
        tenant_id=tenant_id, parent_step_run_id=step_run_id, pk__in=wanted
    ).values_list("pk", flat=True)
    mine = {str(run_id) for run_id in children}
    outcomes = run_outcomes(tenant_id, mine)
    for run_id in {str(run_id) for run_id in wanted} - mine:
        outcomes[run_id] = {"status": "CANCELLED", "error": "Not a child of this step run."}
    return outcomes
