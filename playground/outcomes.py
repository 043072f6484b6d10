"""What came out of playground runs: per-step outputs of a replay beside its source's
with their differences, and comparison matrices with each cell's output, status,
duration, token usage, cost, streamed text and scores, and each column's summary."""

import difflib
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from hatchet.errors import InvalidRequest
from playground.models import (
    Comparison,
    Evaluator,
    PairwiseVote,
    PlaygroundRun,
    Review,
    Score,
    ScoreStatus,
)
from playground.prices import cost_of_usages
from workflows.engine.versions import steps_of
from workflows.models import (
    WORKFLOW_RUN_TERMINAL,
    StepRun,
    StepRunLine,
    WorkflowRun,
    WorkflowVersion,
)

ABSENT = object()


def json_changes(old: Any, new: Any, path: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Where two JSON values differ: [{path, kind, old, new}], objects key by key and
    lists of equal length item by item; anything else is replaced whole."""
    if old is ABSENT or new is ABSENT:
        kind = "added" if old is ABSENT else "removed"
        old, new = (None if old is ABSENT else old), (None if new is ABSENT else new)
        return [{"path": list(path), "kind": kind, "old": old, "new": new}]
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new)):
            changes += json_changes(old.get(key, ABSENT), new.get(key, ABSENT), (*path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            changes += json_changes(before, after, (*path, index))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [{"path": list(path), "kind": "changed", "old": old, "new": new}]


def unified_diff(old: Any, new: Any) -> str:
    def lines(value: Any) -> list[str]:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines(True)

    return "".join(difflib.unified_diff(lines(old), lines(new), "source", "replay"))


def step_runs_by_name(run: WorkflowRun) -> dict[str, StepRun]:
    return {step_run.step.name: step_run for step_run in run.step_runs.select_related("step")}


def replay_outputs(record: PlaygroundRun) -> list[dict[str, Any]]:
    """Each step of the replay, in order, with its output beside the source run's."""
    replayed = step_runs_by_name(record.run)
    source = {} if record.source_run is None else step_runs_by_name(record.source_run)
    outputs = []
    for step in steps_of(record.run.version_id):
        mine, theirs = replayed.get(step.name), source.get(step.name)
        old = None if theirs is None else theirs.output
        new = None if mine is None else mine.output
        changes = json_changes(old, new)
        outputs.append(
            {
                "step": step.name,
                "reused": mine is not None and mine.attempt == 0 and mine.status == "SUCCEEDED",
                "source_status": None if theirs is None else theirs.status,
                "status": None if mine is None else mine.status,
                "source_output": old,
                "replay_output": new,
                "changed": bool(changes),
                "changes": changes,
                "unified": unified_diff(old, new) if changes else "",
            }
        )
    return outputs


def usage_of(step_runs: Iterable[StepRun]) -> dict[str, Any] | None:
    """Token counts added up over the run's steps, and the models they named."""
    reported = [s.usage for s in step_runs if isinstance(s.usage, dict)]
    if not reported:
        return None
    models: list[str] = []
    for usage in reported:
        model = usage.get("model")
        if model and model not in models:
            models.append(str(model))
    prompt = sum(int(u.get("prompt_tokens") or 0) for u in reported)
    completion = sum(int(u.get("completion_tokens") or 0) for u in reported)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "model": ", ".join(models) or None,
    }


def output_step(version: WorkflowVersion) -> str:
    """The step whose output a cell shows: the last one no other step waits for."""
    steps = steps_of(version.pk)
    waited_for = {parent for step in steps for parent in step.parents}
    return [step.name for step in steps if step.name not in waited_for][-1]


def stream_chunks(run_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """Each run's stream chunks: its steps in order, each step's latest attempt only,
    each chunk with its step run, attempt and seq (what a live viewer merges by)."""
    rows = (
        StepRunLine.objects.filter(
            step_run__workflow_run_id__in=run_ids, kind=StepRunLine.Kind.STREAM
        )
        .order_by("step_run__step__position", "attempt", "seq")
        .values_list("step_run__workflow_run_id", "step_run_id", "attempt", "seq", "text")
    )
    latest: dict[UUID, int] = {}
    chunks: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for run_id, step_run_id, attempt, seq, text in rows:
        latest[step_run_id] = max(latest.get(step_run_id, 0), attempt)
        chunks[run_id].append(
            {"step_run_id": step_run_id, "attempt": attempt, "seq": seq, "text": text}
        )
    return {
        run_id: [chunk for chunk in run_chunks if chunk["attempt"] == latest[chunk["step_run_id"]]]
        for run_id, run_chunks in chunks.items()
    }


def measures_of(run: WorkflowRun, step_runs: list[StepRun]) -> dict[str, Any]:
    """What a cell's run took: its duration, the tokens its steps reported and their
    cost."""
    usages = [s.usage for s in step_runs if isinstance(s.usage, dict)]
    return {
        "duration_ms": (
            None
            if run.started_at is None or run.finished_at is None
            else round((run.finished_at - run.started_at).total_seconds() * 1000, 1)
        ),
        "usage": usage_of(step_runs),
        "cost": cost_of_usages(usages),
    }


def place_of(record: PlaygroundRun, latest: dict[tuple[int, int, int], int]) -> dict[str, Any]:
    """Where a cell sits: its row and column, which repeat it is, which attempt at that
    repeat, and whether it is the latest attempt (the one summaries count)."""
    key = (record.row or 0, record.column or 0, record.repeat)
    return {
        "row": record.row,
        "column": record.column,
        "repeat": record.repeat,
        "attempt": record.attempt,
        "is_latest": record.attempt == latest.get(key, record.attempt),
    }


def latest_attempts(
    comparison: Comparison, records: list[PlaygroundRun] | None = None
) -> dict[tuple[int, int, int], int]:
    """Each (row, column, repeat)'s latest attempt: of the whole comparison, or of the
    rows and columns of `records` (one cell's look-up reads only its own)."""
    runs = PlaygroundRun.objects.filter(comparison=comparison)
    if records is not None:
        runs = runs.filter(
            row__in={record.row for record in records},
            column__in={record.column for record in records},
        )
    latest: dict[tuple[int, int, int], int] = {}
    for row, column, repeat, attempt in runs.values_list("row", "column", "repeat", "attempt"):
        key = (row or 0, column or 0, repeat)
        latest[key] = max(latest.get(key, 0), attempt)
    return latest


def cell_records(comparison: Comparison, run_ids: list[UUID] | None) -> list[PlaygroundRun]:
    """The comparison's cells (or those of `run_ids`) with their runs, in the grid's
    order: row, column, repeat, attempt."""
    records = PlaygroundRun.objects.filter(comparison=comparison).select_related("run")
    if run_ids is not None:
        records = records.filter(run_id__in=run_ids)
    return sorted(records, key=lambda r: (r.row or 0, r.column or 0, r.repeat, r.attempt))


def cell_of(
    record: PlaygroundRun,
    place: dict[str, Any],
    step_runs: list[StepRun],
    stream: list[dict[str, Any]],
    shown_step: str,
    scores: list[dict[str, Any]],
) -> dict[str, Any]:
    run = record.run
    outputs = {s.step.name: s.output for s in step_runs}
    return {
        **place,
        "run_id": run.pk,
        "kind": record.kind,
        "status": run.status,
        "is_finished": run.status in WORKFLOW_RUN_TERMINAL,
        "output_step": shown_step,
        "output": outputs.get(shown_step),
        "outputs": outputs,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        **measures_of(run, step_runs),
        "scores": scores,
        "stream": "".join(chunk["text"] for chunk in stream),
        "stream_chunks": stream,
    }


def comparison_cells(comparison: Comparison, run_ids: list[UUID] | None = None) -> list[Any]:
    """The comparison's cells (or those of `run_ids`), row by row, each repeat's
    attempts in turn."""
    records_list = cell_records(comparison, run_ids)
    latest = latest_attempts(comparison, None if run_ids is None else records_list)
    ids = [record.run_id for record in records_list]
    step_runs: dict[UUID, list[StepRun]] = defaultdict(list)
    for step_run in (
        StepRun.objects.filter(workflow_run_id__in=ids)
        .select_related("step")
        .order_by("step__position")
    ):
        step_runs[step_run.workflow_run_id].append(step_run)
    streams = stream_chunks(ids)
    scores = scores_of(ids)
    shown = {
        version.pk: output_step(version)
        for version in WorkflowVersion.objects.filter(
            pk__in={record.run.version_id for record in records_list}
        )
    }
    return [
        cell_of(
            record,
            place_of(record, latest),
            step_runs[record.run_id],
            streams.get(record.run_id, []),
            shown[record.run.version_id],
            scores.get(record.run_id, []),
        )
        for record in records_list
    ]


def summary_cells(comparison: Comparison) -> list[dict[str, Any]]:
    """What the column summaries read of each cell (place, status, duration, usage,
    cost, scores) and nothing more: no outputs, no streams. The comparison's socket
    sums up again after every scoring, so this stays small."""
    records_list = cell_records(comparison, None)
    latest = latest_attempts(comparison)
    ids = [record.run_id for record in records_list]
    usages: dict[UUID, list[StepRun]] = defaultdict(list)
    for step_run in StepRun.objects.filter(workflow_run_id__in=ids).only(
        "workflow_run_id", "usage"
    ):
        usages[step_run.workflow_run_id].append(step_run)
    scores = scores_of(ids)
    return [
        {
            **place_of(record, latest),
            "run_id": record.run_id,
            "status": record.run.status,
            "is_finished": record.run.status in WORKFLOW_RUN_TERMINAL,
            **measures_of(record.run, usages[record.run_id]),
            "scores": scores.get(record.run_id, []),
        }
        for record in records_list
    ]


def scores_of(run_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """Each cell's scores, by evaluator name."""
    scores: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for score in (
        Score.objects.filter(cell_id__in=run_ids)
        .select_related("evaluator")
        .order_by("evaluator__name")
    ):
        scores[score.cell_id].append(
            {
                "evaluator": score.evaluator_id,
                "name": score.evaluator.name,
                "status": score.status,
                "value": score.value,
                "passed": score.passed,
                "reason": score.reason,
                "error": score.error,
                "tokens": score.tokens,
                "cost": score.cost,
                "latency_ms": score.latency_ms,
                "run": score.evaluator_run_id,
            }
        )
    return scores


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def evaluator_summary(evaluator: Evaluator, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Over the column's cells: how many of this evaluator's scores are done, passed,
    errored or pending, its pass rate and mean score (of the done ones)."""
    scores = [s for cell in cells for s in cell["scores"] if s["evaluator"] == evaluator.pk]
    done = [s for s in scores if s["status"] == ScoreStatus.DONE]
    passed = sum(1 for s in done if s["passed"])
    return {
        "evaluator": evaluator.pk,
        "name": evaluator.name,
        "scored": len(done),
        "passed": passed,
        "errored": sum(1 for s in scores if s["status"] == ScoreStatus.ERROR),
        "pending": sum(1 for s in scores if s["status"] == ScoreStatus.PENDING),
        "pass_rate": passed / len(done) if done else None,
        "mean_score": mean([s["value"] for s in done]),
    }


def row_scores(cells: list[dict[str, Any]]) -> dict[int, float]:
    """Each row's mean score over the done scores of its cells in the column (several
    when a comparison repeats its cells); rows with none are left out."""
    values: dict[int, list[float]] = defaultdict(list)
    for cell in cells:
        values[cell["row"]] += [
            s["value"] for s in cell["scores"] if s["status"] == ScoreStatus.DONE
        ]
    return {row: sum(scored) / len(scored) for row, scored in values.items() if scored}


def against_baseline(mine: dict[int, float], baseline: dict[int, float]) -> dict[str, int]:
    """Rows whose mean score rose, fell or stayed against the baseline column's; rows
    that either column has not scored are not counted."""
    counts = {"improved": 0, "regressed": 0, "unchanged": 0}
    for row in mine.keys() & baseline.keys():
        difference = mine[row] - baseline[row]
        if abs(difference) < 1e-9:
            counts["unchanged"] += 1
        else:
            counts["improved" if difference > 0 else "regressed"] += 1
    return counts


def column_summaries(
    column_count: int, cells: list[dict[str, Any]], evaluators: list[Evaluator], baseline: int
) -> list[dict[str, Any]]:
    """Each column summed up over its cells' latest attempts (every repeat counts as a
    cell); the improved / regressed rows compare each row's mean score over its
    repeats with the baseline column's."""
    by_column: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for cell in cells:
        if cell.get("is_latest", True):
            by_column[cell["column"]].append(cell)
    baseline_rows = row_scores(by_column[baseline])
    summaries = []
    for column in range(column_count):
        mine = by_column[column]
        costs = [cell["cost"] for cell in mine if cell["cost"] is not None]
        evaluator_costs = [s["cost"] for c in mine for s in c["scores"] if s["cost"] is not None]
        summaries.append(
            {
                "column": column,
                "is_baseline": column == baseline,
                "runs": len(mine),
                "evaluators": [evaluator_summary(e, mine) for e in evaluators],
                "mean_latency_ms": mean(
                    [cell["duration_ms"] for cell in mine if cell["duration_ms"] is not None]
                ),
                "total_tokens": sum(
                    cell["usage"]["total_tokens"] for cell in mine if cell["usage"] is not None
                ),
                "total_cost": sum(costs) if costs else None,
                "evaluator_cost": sum(evaluator_costs) if evaluator_costs else None,
                **against_baseline(row_scores(mine), baseline_rows),
            }
        )
    return summaries


def review_summary(comparison: Comparison, reviews: list[Review]) -> list[dict[str, Any]]:
    """Per column: its reviews (thumbs up and down, mean score) and its blind votes
    (wins, losses, ties and the pairwise score, a tie counting half a win)."""
    columns = range(len(comparison.columns))
    summary: dict[int, dict[str, Any]] = {
        column: {
            "column": column,
            "reviews": 0,
            "thumbs_up": 0,
            "thumbs_down": 0,
            "scores": [],
            "wins": 0,
            "losses": 0,
            "ties": 0,
        }
        for column in columns
    }
    for review in reviews:
        entry = summary.get(review.cell.column or 0)
        if entry is None:
            continue
        entry["reviews"] += 1
        if review.thumbs:
            entry[f"thumbs_{review.thumbs}"] += 1
        if review.score is not None:
            entry["scores"].append(review.score)
    for recorded in PairwiseVote.objects.filter(comparison=comparison):
        for column in (recorded.column_a, recorded.column_b):
            if column not in summary:
                continue
            if recorded.winner is None:
                summary[column]["ties"] += 1
            elif recorded.winner == column:
                summary[column]["wins"] += 1
            else:
                summary[column]["losses"] += 1
    return [finished_summary(summary[column]) for column in columns]


def finished_summary(entry: dict[str, Any]) -> dict[str, Any]:
    scores = entry.pop("scores")
    votes = entry["wins"] + entry["losses"] + entry["ties"]
    return {
        **entry,
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "votes": votes,
        "pairwise_score": round((entry["wins"] + entry["ties"] / 2) / votes, 4) if votes else None,
    }


def check_baseline(baseline: int, column_count: int) -> int:
    if baseline >= column_count:
        raise InvalidRequest(
            f"baseline is column {baseline}, but the columns are 0 to {column_count - 1}.",
            {"baseline": baseline},
        )
    return baseline


def held_against(comparison: Comparison, baseline: int | None) -> int:
    """The comparison's baseline column, or the `baseline` given (checked)."""
    if baseline is None:
        return comparison.baseline
    return check_baseline(baseline, len(comparison.columns))


def evaluators_of(comparison: Comparison) -> list[Evaluator]:
    return list(comparison.evaluators.select_related("workflow").order_by("name"))


def comparison_summary(comparison: Comparison, baseline: int | None = None) -> dict[str, Any]:
    """Only the columns' summary against the baseline (or the `baseline` given), from
    what it needs of the cells: what the socket sends after each scoring."""
    column = held_against(comparison, baseline)
    summary = column_summaries(
        len(comparison.columns),
        summary_cells(comparison),
        evaluators_of(comparison),
        column,
    )
    return {"baseline": column, "summary": summary}


def comparison_matrix(comparison: Comparison, baseline: int | None = None) -> dict[str, Any]:
    """The matrix with each column's summary against the comparison's baseline column
    (or the `baseline` given)."""
    against = held_against(comparison, baseline)
    cells = comparison_cells(comparison)
    evaluators = evaluators_of(comparison)
    reviews = list(Review.objects.filter(comparison=comparison).select_related("cell"))
    return {
        "id": comparison.pk,
        "workflow": comparison.workflow.name,
        "from_step": comparison.from_step or None,
        "dataset": comparison.dataset_id,
        "dataset_version": comparison.dataset_version,
        "columns": comparison.columns,
        "rows": comparison.rows,
        "repeat": comparison.repeat,
        "cells": cells,
        "evaluators": evaluators,
        "baseline": against,
        "summary": column_summaries(len(comparison.columns), cells, evaluators, against),
        "is_finished": all(cell["is_finished"] for cell in cells),
        "reviews": reviews,
        "review_summary": review_summary(comparison, reviews),
        "created_by": comparison.created_by_name,
        "created_at": comparison.created_at,
    }
