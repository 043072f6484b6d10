"""Scores on comparison cells. When a cell's run finishes, the comparison's evaluators
score it: the checks at once, in the process that saw the run finish; LLM judges in a
Celery task, code evaluators in runs on the user's workers (playground.code_evaluators;
the cell's score waits as pending until either answers). Each time, the comparison's viewers
are told which cells to read again (/ws/playground/compare/{id})."""

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from channels.layers import get_channel_layer
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from hatchet.celery import enqueue
from hatchet.concurrency import submit
from hatchet.db import close_broken_connections, described, is_transient
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from playground.code_evaluators import EVALUATOR_TRIGGER, start_evaluations, verdicts_of_runs
from playground.evaluation import Subject, Verdict, evaluate
from playground.models import (
    PLAYGROUND_TRIGGER,
    Comparison,
    Evaluator,
    PlaygroundRun,
    Score,
    ScoreStatus,
)
from playground.outcomes import comparison_cells
from playground.signals import cells_scored
from workflows.models import WORKFLOW_RUN_TERMINAL, WorkflowRunStatus
from workflows.signals import RunUpdate, runs_updated

logger = logging.getLogger(__name__)
R = TypeVar("R")
RETRIES = 5

SCORE_FIELDS = ["status", "value", "passed", "reason", "error", "tokens", "cost", "latency_ms"]


def comparison_group(comparison_id: Any) -> str:
    return f"comparison.{comparison_id}"


def subject_of(evaluator: Evaluator, cell: dict[str, Any], row: dict[str, Any]) -> Subject:
    step = evaluator.step or cell["output_step"]
    return Subject(
        input=row.get("input"),
        output=cell["outputs"].get(step),
        expected=row.get("expected"),
        duration_ms=cell["duration_ms"],
        cost=cell["cost"],
    )


def verdict_on(evaluator: Evaluator, cell: dict[str, Any], row: dict[str, Any]) -> Verdict:
    """The evaluator's verdict on a finished cell; a run that did not succeed has no
    output worth judging and fails every evaluator, so that it counts against its
    column."""
    if cell["status"] != WorkflowRunStatus.SUCCEEDED:
        error = (cell["error"] or "").strip().splitlines()
        ended = "failed" if cell["status"] == WorkflowRunStatus.FAILED else "was cancelled"
        reason = f"the run {ended}" + (f": {error[0]}" if error else "")
        return Verdict(ScoreStatus.DONE, value=0.0, passed=False, reason=reason)
    subject = subject_of(evaluator, cell, row)
    return evaluate(evaluator.kind, evaluator.config, evaluator.threshold, subject)


def score_row(
    comparison: Comparison, cell: dict[str, Any], evaluator: Evaluator, verdict: Verdict | None
) -> Score:
    """The score to store: the verdict, or pending (None) for a judge still to answer."""
    fields = (
        {"status": ScoreStatus.PENDING}
        if verdict is None
        else {name: getattr(verdict, name) for name in SCORE_FIELDS}
    )
    return Score(
        cell_id=cell["run_id"],
        evaluator=evaluator,
        tenant_id=comparison.tenant_id,
        evaluator_run_id=None if verdict is None else verdict.run,
        updated_at=timezone.now(),
        **fields,
    )


def save_scores(scores: list[Score]) -> None:
    """Each (cell, evaluator) holds one score: a new verdict replaces the old."""
    Score.objects.bulk_create(
        scores,
        update_conflicts=True,
        unique_fields=["cell", "evaluator"],
        update_fields=[*SCORE_FIELDS, "evaluator_run", "updated_at"],
    )


def score_cells(comparison: Comparison, run_ids: list[UUID] | None = None) -> list[Score]:
    """Score the comparison's finished cells (all, or those of `run_ids`) with its
    evaluators: checks now, judges pending until their task answers, code evaluators
    pending on the runs they start. Returns the scores written."""
    evaluators = list(comparison.evaluators.all())
    cells = [cell for cell in comparison_cells(comparison, run_ids) if cell["is_finished"]]
    if not cells:
        return []
    scores: list[Score] = []
    judged: list[tuple[str, str]] = []
    coded: dict[Evaluator, list[dict[str, Any]]] = defaultdict(list)
    for cell in cells:
        row = comparison.rows[cell["row"]]
        for evaluator in evaluators:
            succeeded = cell["status"] == WorkflowRunStatus.SUCCEEDED
            if evaluator.is_code and succeeded:
                coded[evaluator].append(cell)
                continue
            waits = evaluator.is_judge and succeeded
            verdict = None if waits else verdict_on(evaluator, cell, row)
            scores.append(score_row(comparison, cell, evaluator, verdict))
            if waits:
                judged.append((str(cell["run_id"]), str(evaluator.pk)))
    with transaction.atomic():
        for evaluator, evaluated in coded.items():
            scores += code_scores(comparison, evaluator, evaluated)
        save_scores(scores)
        if judged:
            transaction.on_commit(lambda: queue_judging(judged))
        announce_scored(comparison.pk, [cell["run_id"] for cell in cells])
    return scores


def code_scores(
    comparison: Comparison, evaluator: Evaluator, cells: list[dict[str, Any]]
) -> list[Score]:
    """Pending scores on the runs of the code evaluator that start for these cells."""
    subjects = [
        (
            subject_of(evaluator, cell, comparison.rows[cell["row"]]),
            {
                "comparison": str(comparison.pk),
                "cell": str(cell["run_id"]),
                "row": cell["row"],
                "column": cell["column"],
                "evaluator": str(evaluator.pk),
                "workflow": comparison.workflow.name,
                "step": evaluator.step or cell["output_step"],
            },
        )
        for cell in cells
    ]
    verdicts = start_evaluations(evaluator, subjects)
    return [
        score_row(comparison, cell, evaluator, verdict)
        for cell, verdict in zip(cells, verdicts, strict=True)
    ]


def record_code_scores(run_ids: list[UUID]) -> None:
    """Store the verdicts of the code evaluators' runs among these finished runs, on
    the scores still waiting for them (a rescore since waits for a newer run)."""
    scores = list(
        Score.objects.filter(
            evaluator_run_id__in=run_ids, status=ScoreStatus.PENDING
        ).select_related("evaluator", "evaluator_run", "cell")
    )
    if not scores:
        return
    runs = {score.evaluator_run: score for score in scores if score.evaluator_run is not None}
    verdicts = verdicts_of_runs(
        list(runs), {run.pk: score.evaluator.threshold for run, score in runs.items()}
    )
    cells: dict[UUID, list[UUID]] = defaultdict(list)
    with transaction.atomic():
        for run, score in runs.items():
            verdict = verdicts[run.pk]
            Score.objects.filter(pk=score.pk, evaluator_run=run).update(
                updated_at=timezone.now(), **{name: getattr(verdict, name) for name in SCORE_FIELDS}
            )
            if score.cell.comparison_id is not None:
                cells[score.cell.comparison_id].append(score.cell_id)
        for comparison_id, scored in cells.items():
            announce_scored(comparison_id, scored)


def queue_judging(judged: list[tuple[str, str]]) -> None:
    from playground.tasks import judge_cells  # the task's body is in this module

    enqueue(judge_cells, [list(pair) for pair in judged])


@dataclass(frozen=True)
class PendingJudgements:
    """What one comparison's judges are asked about: its cells as read, and the
    (cell's run id, evaluator) pairs."""

    comparison: Comparison
    cells: dict[str, dict[str, Any]]
    pairs: list[tuple[str, Evaluator]]


def pending_judgements(judged: Iterable[tuple[str, str]]) -> list[PendingJudgements]:
    by_comparison: dict[UUID, list[tuple[str, str]]] = defaultdict(list)
    records = PlaygroundRun.objects.filter(run_id__in=[run_id for run_id, _ in judged])
    comparison_of = dict(records.values_list("run_id", "comparison_id"))
    for run_id, evaluator_id in judged:
        comparison_id = comparison_of.get(UUID(run_id))
        if comparison_id is not None:
            by_comparison[comparison_id].append((run_id, evaluator_id))
    pending = []
    for comparison in Comparison.objects.filter(pk__in=by_comparison).select_related("workflow"):
        pairs = by_comparison[comparison.pk]
        run_ids = [UUID(run_id) for run_id, _ in pairs]
        cells = {str(cell["run_id"]): cell for cell in comparison_cells(comparison, run_ids)}
        evaluators = Evaluator.objects.in_bulk([UUID(e) for _, e in pairs])
        # An evaluator deleted since went with its scores.
        chosen = [(r, evaluators[UUID(e)]) for r, e in pairs if UUID(e) in evaluators]
        pending.append(PendingJudgements(comparison, cells, chosen))
    return pending


def judge_pending_scores(judged: Iterable[tuple[str, str]]) -> None:
    """Ask each (cell, judge) pair's judge, one after the other, and store its verdict
    (a rescore since made pends it again, for another task, with the same answer)."""
    for pending in with_retries(lambda: pending_judgements(judged)):
        comparison = pending.comparison
        scores = []
        for run_id, evaluator in pending.pairs:
            cell = pending.cells[run_id]
            verdict = verdict_on(evaluator, cell, comparison.rows[cell["row"]])
            scores.append(score_row(comparison, cell, evaluator, verdict))
        run_ids = [UUID(run_id) for run_id in pending.cells]
        with_retries(functools.partial(save_and_announce, comparison, scores, run_ids))


def save_and_announce(comparison: Comparison, scores: list[Score], run_ids: list[UUID]) -> None:
    with transaction.atomic():
        save_scores(scores)
        announce_scored(comparison.pk, run_ids)


def with_retries(work: Callable[[], R]) -> R:
    """Scoring's database work is repeatable (reads, then upserts of whole scores): it
    is tried again after a transient failure (SQLite's lock while another thread
    scores, a lost connection), a few times, unless a caller's transaction holds it."""
    for attempt in range(1, RETRIES + 1):
        try:
            return work()
        except DatabaseError as error:
            if attempt == RETRIES or not is_transient(error) or connection.in_atomic_block:
                raise
            logger.info("playground: scoring is tried again after %s", described(error))
            close_broken_connections()
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def rescore_comparison(tenant: Tenant, comparison_id: Any) -> Comparison:
    """Score every finished cell again with the comparison's evaluators (after an
    evaluator was changed, or a judge failed)."""
    comparisons = Comparison.objects.filter(tenant=tenant).select_related("workflow")
    comparison = get_or_404(comparisons, "Comparison not found.", pk=comparison_id)
    score_cells(comparison)
    return comparison


def announce_scored(comparison_id: Any, run_ids: list[UUID]) -> None:
    """After commit: the comparison's sockets read these cells, and the summary, again."""
    announce(comparison_id, "cells.scored", run_ids)


def announce_cells_added(comparison_id: Any, run_ids: list[UUID]) -> None:
    """After commit: the comparison's sockets watch these new cells (re-run attempts)."""
    announce(comparison_id, "cells.added", run_ids)


def announce(comparison_id: Any, kind: str, run_ids: list[UUID]) -> None:
    message = {"type": kind, "run_ids": [str(run_id) for run_id in run_ids]}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return

        async def send_to_group() -> None:
            await layer.group_send(comparison_group(comparison_id), message)

        submit(send_to_group)

    transaction.on_commit(send)
    transaction.on_commit(lambda: cells_scored.send(sender=Comparison, comparison_id=comparison_id))


# Only runs of these triggers can be comparison cells (PlaygroundRun) or evaluators'
# runs (Score.evaluator_run): the others finish without a look-up.
SCORED_TRIGGERS = {PLAYGROUND_TRIGGER, EVALUATOR_TRIGGER}


def finished_runs(updates: list[RunUpdate]) -> list[UUID]:
    return [
        update.workflow_run_id
        for update in updates
        if update.message.get("type") == "run.status"
        and update.message.get("status") in WORKFLOW_RUN_TERMINAL
        and update.trigger in SCORED_TRIGGERS
    ]


def score_finished_runs(run_ids: list[UUID]) -> None:
    """Score the comparison cells among these finished runs (the playground's and
    evaluators' runs: finished_runs passes the others by)."""
    by_comparison: dict[UUID, list[UUID]] = defaultdict(list)
    for run_id, comparison_id in PlaygroundRun.objects.filter(
        run_id__in=run_ids, comparison__isnull=False
    ).values_list("run_id", "comparison_id"):
        by_comparison[comparison_id].append(run_id)
    for comparison in Comparison.objects.filter(pk__in=by_comparison).select_related("workflow"):
        score_cells(comparison, by_comparison[comparison.pk])


def on_runs_updated(updates: list[RunUpdate], **kwargs: Any) -> None:
    finished = finished_runs(updates)
    if not finished:
        return
    try:
        with_retries(lambda: score_finished_runs(finished))
        with_retries(lambda: record_code_scores(finished))
    except Exception:
        # Scores are a by-product: the engine's announcement must go on regardless
        # (a rescore scores the cells again).
        logger.exception("playground: scoring %d finished runs failed", len(finished))


def subscribe_to_engine() -> None:
    runs_updated.connect(on_runs_updated, dispatch_uid="playground.scoring")
