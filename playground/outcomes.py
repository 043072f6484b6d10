"""What came out of playground runs: per-step outputs of a replay beside its source's
with their differences, and comparison matrices with each cell's output, status,
duration, token usage and streamed text."""

import difflib
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from playground.models import Comparison, PairwiseVote, PlaygroundRun, Review
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


def cell_of(
    record: PlaygroundRun,
    step_runs: list[StepRun],
    stream: list[dict[str, Any]],
    shown_step: str,
) -> dict[str, Any]:
    run = record.run
    outputs = {s.step.name: s.output for s in step_runs}
    duration = (
        None
        if run.started_at is None or run.finished_at is None
        else round((run.finished_at - run.started_at).total_seconds() * 1000, 1)
    )
    return {
        "row": record.row,
        "column": record.column,
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
        "duration_ms": duration,
        "usage": usage_of(step_runs),
        "stream": "".join(chunk["text"] for chunk in stream),
        "stream_chunks": stream,
    }


def comparison_cells(comparison: Comparison, run_ids: list[UUID] | None = None) -> list[Any]:
    """The comparison's cells (or those of `run_ids`), row by row."""
    records = PlaygroundRun.objects.filter(comparison=comparison).select_related("run")
    if run_ids is not None:
        records = records.filter(run_id__in=run_ids)
    records_list = sorted(records, key=lambda r: (r.row or 0, r.column or 0))
    ids = [record.run_id for record in records_list]
    step_runs: dict[UUID, list[StepRun]] = defaultdict(list)
    for step_run in (
        StepRun.objects.filter(workflow_run_id__in=ids)
        .select_related("step")
        .order_by("step__position")
    ):
        step_runs[step_run.workflow_run_id].append(step_run)
    streams = stream_chunks(ids)
    shown = {
        version.pk: output_step(version)
        for version in WorkflowVersion.objects.filter(
            pk__in={record.run.version_id for record in records_list}
        )
    }
    return [
        cell_of(
            record,
            step_runs[record.run_id],
            streams.get(record.run_id, []),
            shown[record.run.version_id],
        )
        for record in records_list
    ]


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


def comparison_matrix(comparison: Comparison) -> dict[str, Any]:
    cells = comparison_cells(comparison)
    reviews = list(Review.objects.filter(comparison=comparison).select_related("cell"))
    return {
        "id": comparison.pk,
        "workflow": comparison.workflow.name,
        "from_step": comparison.from_step or None,
        "dataset": comparison.dataset_id,
        "dataset_version": comparison.dataset_version,
        "columns": comparison.columns,
        "rows": comparison.rows,
        "cells": cells,
        "is_finished": all(cell["is_finished"] for cell in cells),
        "reviews": reviews,
        "review_summary": review_summary(comparison, reviews),
        "created_by": comparison.created_by_name,
        "created_at": comparison.created_at,
    }
