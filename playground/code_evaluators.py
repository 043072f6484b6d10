"""Code evaluators: functions declared with the SDK's `@hatchet.evaluator` and run by
the user's own workers. A worker registers, for each, a one-step workflow whose
definition declares what it scores (docs/protocol.md, "Code evaluators"); that
declaration becomes an Evaluator of kind `code`. Scoring a cell with it starts a run of
that workflow (trigger `evaluator`) with `{input, output, expected, metadata}`; the
score waits as pending, naming the run, until the run finishes, and a run that waits
for a worker keeps it pending, never lost."""

import math
import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hatchet.errors import InvalidDefinition, ServiceError
from hatchet.models import Tenant
from playground.evaluation import Subject, Verdict, shown
from playground.models import Evaluator, EvaluatorKind, ScoreStatus
from workflows.engine.definitions import EvaluatorDeclaration
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import (
    WORKFLOW_RUN_TERMINAL,
    StepRun,
    Workflow,
    WorkflowRun,
    WorkflowRunStatus,
)
from workflows.signals import evaluator_registered

EVALUATOR_TRIGGER = "evaluator"
EVALUATE_STEP = "evaluate"
TRY_POLL_SECONDS = 0.05


def declare_evaluator(
    *, tenant: Tenant, workflow: str, declaration: EvaluatorDeclaration, **_kwargs: Any
) -> Evaluator:
    """The Evaluator a registration declares, made or brought up to date; a name that
    an evaluator configured in the dashboard holds refuses the registration."""
    evaluated = Workflow.objects.get(tenant=tenant, name=declaration.workflow)
    config = {"workflow": workflow, "function": declaration.function, "worker": declaration.worker}
    author = declaration.worker or "a worker"
    now = timezone.now()
    with transaction.atomic():
        evaluator = (
            Evaluator.objects.select_for_update()
            .filter(workflow=evaluated, name=declaration.name)
            .first()
        )
        if evaluator is None:
            return Evaluator.objects.create(
                tenant=tenant,
                workflow=evaluated,
                step=declaration.step,
                name=declaration.name,
                kind=EvaluatorKind.CODE,
                config=config,
                created_by_name=author,
                created_at=now,
                updated_at=now,
            )
        if not evaluator.is_code:
            raise InvalidDefinition(
                f"{evaluated.name} already has an evaluator named '{declaration.name}' "
                f"({evaluator.kind}): rename the code evaluator or delete that one.",
                {"field": "evaluator.name", "name": declaration.name},
            )
        if (evaluator.step, evaluator.config) != (declaration.step, config):
            evaluator.step, evaluator.config, evaluator.updated_at = declaration.step, config, now
            evaluator.save(update_fields=["step", "config", "updated_at"])
    return evaluator


def subscribe_to_engine() -> None:
    evaluator_registered.connect(declare_evaluator, dispatch_uid="playground.code_evaluators")


def action_of(evaluator: Evaluator) -> str:
    return f"{evaluator.config['workflow']}:{EVALUATE_STEP}"


def start_evaluations(
    evaluator: Evaluator, subjects: list[tuple[Subject, dict[str, Any]]]
) -> list[Verdict]:
    """Start one run of the evaluator's workflow per (subject, metadata); each verdict is
    pending on its run, or an error when no run could start."""
    requests = [
        RunRequest(
            input={
                "input": subject.input,
                "output": subject.output,
                "expected": subject.expected,
                "metadata": metadata,
            },
            additional_metadata={"evaluator": str(evaluator.pk)},
        )
        for subject, metadata in subjects
    ]
    try:
        runs = trigger_workflow_runs(
            evaluator.tenant,
            evaluator.config["workflow"],
            requests,
            trigger=EVALUATOR_TRIGGER,
            details=False,
        )
    except ServiceError as refused:
        error = f"The evaluator's workflow could not start: {refused.message}"
        return [Verdict(ScoreStatus.ERROR, error=error) for _ in subjects]
    reason = f"waiting for its run on a worker with the action {action_of(evaluator)}"
    return [Verdict(ScoreStatus.PENDING, reason=reason, run=run.pk) for run in runs]


def verdicts_of_runs(runs: list[WorkflowRun], thresholds: dict[UUID, float]) -> dict[UUID, Verdict]:
    """The verdicts of finished evaluator runs (`thresholds` by run id)."""
    outputs = dict(
        StepRun.objects.filter(workflow_run__in=runs, step__name=EVALUATE_STEP).values_list(
            "workflow_run_id", "output"
        )
    )
    return {run.pk: verdict_of_run(run, outputs.get(run.pk), thresholds[run.pk]) for run in runs}


def verdict_of_run(run: WorkflowRun, output: Any, threshold: float) -> Verdict:
    """A succeeded run's `{score, reason}` checked; a failed one's error, as a score's."""
    latency = (
        round((run.finished_at - run.started_at).total_seconds() * 1000, 1)
        if run.started_at and run.finished_at
        else None
    )
    if run.status != WorkflowRunStatus.SUCCEEDED:
        ended = "failed" if run.status == WorkflowRunStatus.FAILED else "was cancelled"
        first_line = next(iter((run.error or "").strip().splitlines()), "")
        error = f"The evaluator's run {ended}" + (f": {first_line}" if first_line else ".")
        return Verdict(ScoreStatus.ERROR, error=error, latency_ms=latency, run=run.pk)
    if not isinstance(output, dict) or "score" not in output:
        error = f"The evaluator answered {shown(output)}, not {{score, reason}}."
        return Verdict(ScoreStatus.ERROR, error=error, latency_ms=latency, run=run.pk)
    score, reason = output["score"], output.get("reason")
    if (
        isinstance(score, bool)
        or not isinstance(score, int | float)
        or not math.isfinite(score)
        or not 0 <= score <= 1
    ):
        error = f"The evaluator's score {shown(score)} is not a number from 0 to 1."
        return Verdict(ScoreStatus.ERROR, error=error, latency_ms=latency, run=run.pk)
    value = float(score)
    return Verdict(
        ScoreStatus.DONE,
        value=value,
        passed=value >= threshold,
        reason=reason.strip() if isinstance(reason, str) and reason.strip() else "(no reason)",
        latency_ms=latency,
        run=run.pk,
    )


def try_code_evaluator(evaluator: Evaluator, subject: Subject) -> Verdict:
    """Run the evaluator on one output and wait for its run up to
    HATCHET_CODE_EVALUATOR_TRY_WAIT seconds; still running, the verdict is pending and
    names the run to follow. Nothing is stored beside the run."""
    [verdict] = start_evaluations(evaluator, [(subject, {"evaluator": str(evaluator.pk)})])
    if verdict.run is None:
        return verdict
    deadline = time.monotonic() + settings.HATCHET_CODE_EVALUATOR_TRY_WAIT
    while True:
        run = WorkflowRun.objects.get(pk=verdict.run)
        if run.status in WORKFLOW_RUN_TERMINAL:
            return verdicts_of_runs([run], {run.pk: evaluator.threshold})[run.pk]
        if time.monotonic() >= deadline:
            return verdict
        time.sleep(TRY_POLL_SECONDS)
