"""Why a run, or a queued step of it, is waiting: said on the run's detail."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from workflows.engine.affinity import Choice, WorkerProfile, describe, score
from workflows.engine.queue import choices_of, live_worker_profiles
from workflows.engine.rate_limits import waiting_reason
from workflows.models import (
    HELD_STEP_RUNS,
    WAITING_FOR_RESUME,
    WAITING_FOR_SLOT,
    StepRun,
    StepRunStatus,
    WorkflowRun,
)
from workflows.signals import ActionServers, workers_serving


def run_waiting_reason(run: WorkflowRun) -> str:
    """Why the run has queued nothing yet; blank when it has."""
    if run.waiting_for == WAITING_FOR_RESUME:
        return f"{run.workflow.name} is paused: this run starts when it resumes."
    if run.waiting_for == WAITING_FOR_SLOT:
        unfinished = WorkflowRun.objects.filter(
            tenant_id=run.tenant_id, concurrency_key=run.concurrency_key, finished_at__isnull=True
        )
        going = unfinished.filter(waiting_for="").count()
        ahead = unfinished.filter(
            waiting_for=WAITING_FOR_SLOT, created_at__lt=run.created_at
        ).count()
        return (
            f"Its concurrency key {run.concurrency_key} is full: {going} "
            f"run{'s' if going != 1 else ''} going, {ahead} waiting ahead of this one."
        )
    return ""


def step_waiting_reasons(tenant_id: Any, step_runs: Iterable[StepRun]) -> dict[Any, str]:
    """Why each queued step run is not yet assigned, by step run id."""
    queued = [s for s in step_runs if s.status == StepRunStatus.QUEUED]
    if not queued:
        return {}
    servers: dict[str, ActionServers] = {}
    for _, answer in workers_serving.send(
        sender=None, tenant_id=tenant_id, actions={s.action for s in queued}
    ):
        if isinstance(answer, dict):
            servers.update(answer)
    now = timezone.now()
    reasons = {s.pk: step_reason(s, servers.get(s.action), now) for s in queued}
    constrained = [s for s in queued if s.constrained]
    if constrained:
        live = live_worker_profiles(tenant_id)
        choices = choices_of(constrained, {worker.id for worker in live})
        for step_run in constrained:
            chosen = choice_reason(choices[step_run.pk], live)
            if chosen:
                reasons[step_run.pk] = chosen
    for step_run in queued:
        if step_run.concurrency_key:
            reasons[step_run.pk] = step_key_reason(step_run) or reasons[step_run.pk]
    return reasons


def step_key_reason(step_run: StepRun) -> str:
    """Why a step run waits for its step's concurrency key; blank if the key has room."""
    same_key = StepRun.objects.filter(
        tenant_id=step_run.tenant_id, concurrency_key=step_run.concurrency_key
    )
    held = same_key.filter(HELD_STEP_RUNS).count()
    if held < (step_run.step.concurrency or {}).get("max_runs", 1):
        return ""
    ahead = same_key.filter(status=StepRunStatus.QUEUED, ranked_at__lt=step_run.ranked_at).count()
    return (
        f"Its step's concurrency key {step_run.concurrency_key} is full: {held} held by "
        f"workers, {ahead} waiting ahead of it."
    )


def choice_reason(choice: Choice, live: list[WorkerProfile]) -> str:
    """Why no live worker may take a step that chooses its worker; blank if one may."""
    serving = [worker for worker in live if choice.action in worker.serves]
    if not serving or any(score(choice, worker) is not None for worker in serving):
        return ""
    stuck = choice.sticky_to
    if choice.sticky == "hard" and stuck is not None and not stuck.live:
        return (
            f"Its run sticks to worker {stuck.worker_name}, which is gone: it waits for a "
            "worker of that name."
        )
    return f"No live worker serving {choice.action} has the labels it requires: {describe(choice)}."


def step_reason(step_run: StepRun, served: ActionServers | None, now: datetime) -> str:
    if step_run.step.rate_limits:
        run = step_run.workflow_run
        limited = waiting_reason(
            step_run.tenant_id, step_run.step.rate_limits, run.input, run.additional_metadata
        )
        if limited:
            return limited
    if step_run.available_at is not None and step_run.available_at > now:
        return f"Waiting for its retry at {step_run.available_at.isoformat()}."
    if served is None:
        return (
            f"No worker serves {step_run.action}: start one that registers "
            f"{step_run.action.split(':', 1)[0]}."
        )
    if served.free_slots <= 0:
        return (
            f"Every worker serving {step_run.action} is busy ({served.workers} "
            f"worker{'s' if served.workers != 1 else ''}, no free slot)."
        )
    return "Being assigned to a worker with a free slot."
