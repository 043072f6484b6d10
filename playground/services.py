"""The playground's actions: variants and their revisions, runs with a variant or
overrides, replays of past runs, and comparisons of variants over inputs. Each
validates, writes in one transaction and returns what it touched; the engine
announces the runs it starts."""

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hatchet.errors import Conflict, InvalidRequest, NotFound
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from hatchet.wire.json_types import json_type_name
from playground.models import (
    PLAYGROUND_TRIGGER,
    Comparison,
    DatasetRow,
    DatasetVersion,
    Evaluator,
    PlaygroundRun,
    ScoreStatus,
    Variable,
    Variant,
    VariantRevision,
)
from playground.outcomes import check_baseline, summary_cells
from playground.scoring import announce_cells_added
from workflows.engine.replays import replay_workflow_run
from workflows.engine.runs import (
    RunRequest,
    run_or_404,
    trigger_workflow_runs,
)
from workflows.engine.versions import latest_version, steps_of
from workflows.models import Workflow, WorkflowRun, WorkflowRunStatus

Overrides = dict[str, dict[str, Any]]


class UnknownVariable(InvalidRequest):
    code = "unknown_variable"


class TypeMismatch(InvalidRequest):
    code = "type_mismatch"


@dataclass(frozen=True)
class Author:
    """Who acts: a dashboard user, or None for an API token (named by its label)."""

    user: Any
    name: str


def workflow_or_404(tenant: Tenant, name: str) -> Workflow:
    workflows = Workflow.objects.filter(tenant=tenant)
    message = f"Workflow '{name}' is not registered."
    return get_or_404(workflows, message, details={"workflow": name}, name=name)


def json_type_of(value: Any) -> str:
    """The JSON type name the SDK records for a default (docs/protocol.md)."""
    try:
        return json_type_name(value)
    except TypeError:
        return "null"


def matches_type(value: Any, json_type: str) -> bool:
    actual = json_type_of(value)
    # Every integer is a JSON number; a float is no integer.
    return actual == json_type or (json_type == "number" and actual == "integer")


def check_variable_overrides(workflow: Workflow, overrides: Any) -> Overrides:
    """Overrides {step: {name: value}} for variables the catalog knows, each of the
    variable's type; the first problem is refused with a message that names it."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise InvalidRequest("overrides must map step names to objects of variable values.")
    step_names = [step.name for step in steps_of(latest_version(workflow.tenant, workflow.name).pk)]
    unknown_steps = sorted(set(overrides) - set(step_names))
    if unknown_steps:
        raise InvalidRequest(
            f"overrides name unknown step(s) of {workflow.name}: {', '.join(unknown_steps)}.",
            {"steps": unknown_steps},
        )
    variables = {(v.step, v.name): v for v in Variable.objects.filter(workflow=workflow)}
    for step, values in overrides.items():
        for name, value in values.items():
            variable = variables.get((step, name))
            if variable is None:
                known = sorted(n for s, n in variables if s == step)
                raise UnknownVariable(
                    f"Step '{step}' of {workflow.name} has not exposed a variable '{name}' "
                    f"(it exposes: {', '.join(known) if known else 'none seen yet'}).",
                    {"step": step, "name": name, "known": known},
                )
            if not matches_type(value, variable.type):
                shown = json.dumps(value)
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                raise TypeMismatch(
                    f"{step}.{name} takes a {variable.type} (its default is "
                    f"{json.dumps(variable.default)[:60]}), not a {json_type_of(value)}: {shown}.",
                    {
                        "step": step,
                        "name": name,
                        "expected": variable.type,
                        "got": json_type_of(value),
                    },
                )
    return {step: dict(values) for step, values in overrides.items() if values}


def override_changes(old: Overrides, new: Overrides) -> list[dict[str, Any]]:
    """Each (step, name) whose value was added, removed or changed, in name order."""
    keys = sorted(
        {(step, name) for values in (old, new) for step in values for name in values[step]}
    )
    changes = []
    for step, name in keys:
        had, has = name in old.get(step, {}), name in new.get(step, {})
        before, after = old.get(step, {}).get(name), new.get(step, {}).get(name)
        if had and has and before == after:
            continue
        kind = "changed" if had and has else "added" if has else "removed"
        changes.append({"step": step, "name": name, "kind": kind, "old": before, "new": after})
    return changes


def variant_or_404(tenant: Tenant, variant_id: Any, *, lock: bool = False) -> Variant:
    variants = Variant.objects.filter(tenant=tenant).select_related("workflow")
    if lock:
        variants = variants.select_for_update(of=("self",))
    return get_or_404(variants, "Variant not found.", pk=variant_id)


def add_revision(
    variant: Variant, author: Author, changes: list[dict[str, Any]], restored_from: int | None
) -> VariantRevision:
    return VariantRevision.objects.create(
        variant=variant,
        number=variant.revision,
        name=variant.name,
        notes=variant.notes,
        overrides=variant.overrides,
        changes=changes,
        restored_from=restored_from,
        author=author.user,
        author_name=author.name,
        created_at=variant.updated_at,
    )


def save_variant(variant: Variant, *, creating: bool) -> None:
    try:
        with transaction.atomic():
            variant.save(force_insert=creating)
    except IntegrityError:
        raise Conflict(
            f"{variant.workflow.name} already has a variant named '{variant.name}'.",
            {"name": variant.name},
        ) from None


def create_variant(
    tenant: Tenant, workflow_name: str, name: str, overrides: Any, author: Author, notes: str = ""
) -> Variant:
    workflow = workflow_or_404(tenant, workflow_name)
    checked = check_variable_overrides(workflow, overrides)
    now = timezone.now()
    variant = Variant(
        tenant=tenant,
        workflow=workflow,
        name=name,
        notes=notes,
        overrides=checked,
        revision=1,
        created_by=author.user,
        created_by_name=author.name,
        created_at=now,
        updated_at=now,
    )
    with transaction.atomic():
        save_variant(variant, creating=True)
        add_revision(variant, author, override_changes({}, checked), None)
    return variant


def edit_variant(
    tenant: Tenant,
    variant_id: Any,
    author: Author,
    *,
    name: str | None = None,
    notes: str | None = None,
    overrides: Any = None,
    base_revision: int | None = None,
) -> Variant:
    """Change a variant's name, notes or overrides; each edit that changes something
    is a new revision. `base_revision`, when given, must still be the current one."""
    with transaction.atomic():
        variant = variant_or_404(tenant, variant_id, lock=True)
        if base_revision is not None and base_revision != variant.revision:
            raise Conflict(
                f"Variant '{variant.name}' changed since revision {base_revision}: it is at "
                f"revision {variant.revision}. Reload it and edit again.",
                {"revision": variant.revision, "base_revision": base_revision},
            )
        old = variant.overrides
        new = old if overrides is None else check_variable_overrides(variant.workflow, overrides)
        changed = (
            new != old
            or (name is not None and name != variant.name)
            or (notes is not None and notes != variant.notes)
        )
        if not changed:
            return variant
        variant.name = variant.name if name is None else name
        variant.notes = variant.notes if notes is None else notes
        variant.overrides = new
        variant.revision += 1
        variant.updated_at = timezone.now()
        save_variant(variant, creating=False)
        add_revision(variant, author, override_changes(old, new), None)
    return variant


def get_revision(variant: Variant, number: int) -> VariantRevision:
    revision = variant.revisions.filter(number=number).first()
    if revision is None:
        raise NotFound(
            f"Variant '{variant.name}' has no revision {number} (it has 1 to {variant.revision}).",
            {"revision": number},
        )
    return revision


def restore_variant(tenant: Tenant, variant_id: Any, number: int, author: Author) -> Variant:
    """Make a past revision's overrides and notes current again, as a new revision."""
    with transaction.atomic():
        variant = variant_or_404(tenant, variant_id, lock=True)
        revision = get_revision(variant, number)
        # The catalog may have moved on since: the restored values must still fit.
        restored = check_variable_overrides(variant.workflow, revision.overrides)
        old = variant.overrides
        variant.overrides = restored
        variant.notes = revision.notes
        variant.revision += 1
        variant.updated_at = timezone.now()
        save_variant(variant, creating=False)
        add_revision(variant, author, override_changes(old, restored), number)
    return variant


def delete_variant(tenant: Tenant, variant_id: Any) -> None:
    """Runs that used it keep its name and revision."""
    variant_or_404(tenant, variant_id).delete()


@dataclass(frozen=True)
class Choice:
    """The overrides a run gets: a variant's (at a revision) with ad hoc ones on top."""

    variant: Variant | None
    revision: int | None
    ad_hoc: Overrides
    merged: Overrides


def choose_overrides(
    tenant: Tenant,
    workflow: Workflow,
    variant_id: Any = None,
    revision: int | None = None,
    overrides: Any = None,
) -> Choice:
    ad_hoc = check_variable_overrides(workflow, overrides)
    if variant_id is None:
        if revision is not None:
            raise InvalidRequest("variant_revision needs a variant.")
        return Choice(None, None, ad_hoc, ad_hoc)
    variant = variant_or_404(tenant, variant_id)
    if variant.workflow_id != workflow.pk:
        raise InvalidRequest(
            f"Variant '{variant.name}' belongs to {variant.workflow.name}, not {workflow.name}.",
            {"variant": str(variant.pk)},
        )
    base = variant.overrides
    if revision is not None and revision != variant.revision:
        base = get_revision(variant, revision).overrides
    merged = {step: dict(values) for step, values in base.items()}
    for step, values in ad_hoc.items():
        merged.setdefault(step, {}).update(values)
    return Choice(variant, revision or variant.revision, ad_hoc, merged)


def playground_run(
    run: WorkflowRun, kind: str, choice: Choice, author: Author, **fields: Any
) -> PlaygroundRun:
    return PlaygroundRun(
        run=run,
        tenant_id=run.tenant_id,
        kind=kind,
        variant=choice.variant,
        variant_name="" if choice.variant is None else choice.variant.name,
        variant_revision=choice.revision,
        overrides=choice.ad_hoc,
        created_by=author.user,
        created_by_name=author.name,
        created_at=run.created_at,
        **fields,
    )


def start_playground_run(
    tenant: Tenant,
    workflow_name: str,
    input: Any,
    author: Author,
    *,
    variant_id: Any = None,
    revision: int | None = None,
    overrides: Any = None,
    additional_metadata: Any = None,
) -> PlaygroundRun:
    """Run the workflow with a variant and/or ad hoc overrides, recording which."""
    workflow = workflow_or_404(tenant, workflow_name)
    choice = choose_overrides(tenant, workflow, variant_id, revision, overrides)
    with transaction.atomic():
        [run] = trigger_workflow_runs(
            tenant,
            workflow_name,
            [RunRequest(input, additional_metadata, choice.merged)],
            trigger=PLAYGROUND_TRIGGER,
        )
        record = playground_run(run, PlaygroundRun.Kind.RUN, choice, author)
        record.save(force_insert=True)
    return record


def replay(
    tenant: Tenant,
    source_run_id: Any,
    author: Author,
    *,
    from_step: str | None = None,
    input: Any = None,
    variant_id: Any = None,
    revision: int | None = None,
    overrides: Any = None,
) -> PlaygroundRun:
    """Replay a past run, whole or from a step, with a variant and/or overrides (with
    neither, with the source run's own overrides)."""
    source = run_or_404(tenant, source_run_id)
    choice = choose_overrides(tenant, source.workflow, variant_id, revision, overrides)
    chosen = variant_id is not None or overrides is not None
    with transaction.atomic():
        run = replay_workflow_run(
            tenant,
            source.pk,
            from_step=from_step,
            input=input,
            overrides=choice.merged if chosen else None,
            trigger=PLAYGROUND_TRIGGER,
        )
        record = playground_run(
            run,
            PlaygroundRun.Kind.REPLAY,
            choice,
            author,
            source_run=source,
            from_step=from_step or "",
        )
        record.save(force_insert=True)
    return record


@dataclass(frozen=True)
class Column:
    title: str
    choice: Choice


@dataclass(frozen=True)
class Row:
    title: str
    source: WorkflowRun | None
    input: dict[str, Any] | None
    # A dataset's row runs as a custom input and keeps the output expected of it.
    dataset_row: DatasetRow | None = None


def comparison_columns(
    tenant: Tenant, workflow: Workflow, columns: Sequence[dict[str, Any]]
) -> list[Column]:
    """Each column is {"baseline": true}, {"variant": id, "revision"?} or
    {"overrides": {...}}, with an optional "title"."""
    chosen = []
    for index, column in enumerate(columns):
        if column.get("baseline"):
            choice, title = Choice(None, None, {}, {}), "baseline"
        elif column.get("variant") is not None:
            choice = choose_overrides(tenant, workflow, column["variant"], column.get("revision"))
            if choice.variant is None:
                raise RuntimeError("a variant column chose no variant")
            title = f"{choice.variant.name} r{choice.revision}"
        elif column.get("overrides") is not None:
            choice = choose_overrides(tenant, workflow, overrides=column["overrides"])
            title = f"overrides {index + 1}"
        else:
            raise InvalidRequest(
                f"columns[{index}] must have baseline, variant or overrides.", {"column": index}
            )
        chosen.append(Column(column.get("title") or title, choice))
    return chosen


def comparison_rows(
    tenant: Tenant, workflow: Workflow, rows: Sequence[dict[str, Any]], from_step: str | None
) -> list[Row]:
    """Each row is {"run": id} (a past run of the workflow) or {"input": {...}}, with
    an optional "title"."""
    chosen = []
    for index, row in enumerate(rows):
        if row.get("run") is not None:
            source = run_or_404(tenant, row["run"])
            if source.workflow_id != workflow.pk:
                raise InvalidRequest(
                    f"rows[{index}]: run {source.pk} is a run of {source.workflow.name}, "
                    f"not {workflow.name}.",
                    {"row": index},
                )
            chosen.append(Row(row.get("title") or f"run {str(source.pk)[:8]}", source, None))
        elif row.get("input") is not None:
            if from_step:
                raise InvalidRequest(
                    f"rows[{index}]: a custom input has no recorded outputs to start from "
                    f"'{from_step}'; use past runs, or compare whole runs.",
                    {"row": index},
                )
            chosen.append(Row(row.get("title") or f"input {index + 1}", None, row["input"]))
        else:
            raise InvalidRequest(f"rows[{index}] must have run or input.", {"row": index})
    return chosen


def dataset_rows(
    workflow: Workflow, version: DatasetVersion | None, from_step: str | None
) -> list[Row]:
    """A row per row of the dataset's version, in its order."""
    if version is None:
        return []
    dataset = version.dataset
    if dataset.workflow_id != workflow.pk:
        raise InvalidRequest(
            f"Dataset '{dataset.name}' holds inputs of {dataset.workflow.name}, "
            f"not {workflow.name}.",
            {"dataset": str(dataset.pk)},
        )
    if from_step:
        raise InvalidRequest(
            f"A dataset's rows are custom inputs with no recorded outputs to start from "
            f"'{from_step}'; compare whole runs.",
            {"dataset": str(dataset.pk)},
        )
    return [
        Row(f"{dataset.name} #{position}", None, row.input, row)
        for position, row in enumerate(version.ordered_rows(), start=1)
    ]


def check_comparison_size(column_count: int, row_count: int, repeat: int) -> None:
    """The cap counts runs: rows x columns x repeats."""
    cells = row_count * column_count * repeat
    most = settings.HATCHET_MAX_COMPARISON_CELLS
    if not cells:
        raise InvalidRequest("A comparison needs at least one column and one row.")
    if cells > most:
        repeats = f" x {repeat} repeats" if repeat > 1 else ""
        raise InvalidRequest(
            f"{row_count} rows x {column_count} columns{repeats} is {cells} runs; "
            f"a comparison has at most {most}.",
            {"cells": cells, "max": most},
        )


def new_comparison(
    tenant: Tenant,
    workflow: Workflow,
    columns: Sequence[Column],
    rows: Sequence[Row],
    author: Author,
    from_step: str | None,
    dataset_version: DatasetVersion | None = None,
) -> Comparison:
    """The comparison's record (unsaved): each column's overrides and each row's input
    as they were chosen, for the page to show however the variants change later."""
    return Comparison(
        tenant=tenant,
        workflow=workflow,
        columns=[
            {
                "title": column.title,
                "variant": None if column.choice.variant is None else str(column.choice.variant.pk),
                "variant_name": "" if column.choice.variant is None else column.choice.variant.name,
                "revision": column.choice.revision,
                "overrides": column.choice.merged,
            }
            for column in columns
        ],
        rows=[
            {
                "title": row.title,
                "source_run": None if row.source is None else str(row.source.pk),
                "input": row.input if row.source is None else row.source.input,
                **dataset_row_fields(row.dataset_row),
            }
            for row in rows
        ],
        from_step=from_step or "",
        dataset=None if dataset_version is None else dataset_version.dataset,
        dataset_version=None if dataset_version is None else dataset_version.number,
        created_by=author.user,
        created_by_name=author.name,
    )


def dataset_row_fields(row: DatasetRow | None) -> dict[str, Any]:
    """What a comparison's row keeps of the dataset row it ran: the run its input came
    from, and the output expected of it."""
    if row is None:
        return {"expected": None, "dataset_row": None}
    return {
        "source_run": None if row.source_run_id is None else str(row.source_run_id),
        "expected": row.expected,
        "dataset_row": str(row.pk),
    }


def run_custom_input_cells(
    comparison: Comparison, columns: Sequence[Column], rows: Sequence[Row], author: Author
) -> list[PlaygroundRun]:
    """One run per column and repeat for each row with a custom input, triggered
    together; the cells are returned unsaved."""
    cells = [
        (r, c, k)
        for r, row in enumerate(rows)
        if row.source is None
        for c in range(len(columns))
        for k in range(comparison.repeat)
    ]
    if not cells:
        return []
    runs = trigger_workflow_runs(
        comparison.tenant,
        comparison.workflow.name,
        [RunRequest(rows[r].input, None, columns[c].choice.merged) for r, c, _ in cells],
        trigger=PLAYGROUND_TRIGGER,
    )
    return [
        playground_run(
            run,
            PlaygroundRun.Kind.RUN,
            columns[c].choice,
            author,
            comparison=comparison,
            row=r,
            column=c,
            repeat=k,
        )
        for (r, c, k), run in zip(cells, runs, strict=True)
    ]


def replay_past_run_cells(
    comparison: Comparison,
    columns: Sequence[Column],
    rows: Sequence[Row],
    author: Author,
    from_step: str | None,
) -> list[PlaygroundRun]:
    """A replay per column and repeat of each row's past run (from `from_step` if
    given); the cells are returned unsaved."""
    cells = []
    for r, row in enumerate(rows):
        if row.source is None:
            continue
        for (c, column), k in itertools.product(enumerate(columns), range(comparison.repeat)):
            run = replay_workflow_run(
                comparison.tenant,
                row.source.pk,
                from_step=from_step,
                overrides=column.choice.merged,
                trigger=PLAYGROUND_TRIGGER,
            )
            cells.append(
                playground_run(
                    run,
                    PlaygroundRun.Kind.REPLAY,
                    column.choice,
                    author,
                    comparison=comparison,
                    row=r,
                    column=c,
                    repeat=k,
                    source_run=row.source,
                    from_step=from_step or "",
                )
            )
    return cells


def comparison_evaluators(
    workflow: Workflow, evaluator_ids: Sequence[Any] | None
) -> list[Evaluator]:
    """The evaluators named (default: all of the workflow's), each of the workflow."""
    evaluators = Evaluator.objects.filter(workflow=workflow)
    if evaluator_ids is None:
        return list(evaluators)
    found = evaluators.in_bulk(evaluator_ids)
    missing = [str(pk) for pk in evaluator_ids if pk not in found]
    if missing:
        raise InvalidRequest(
            f"{workflow.name} has no evaluator {', '.join(missing)}.", {"evaluators": missing}
        )
    return [found[pk] for pk in dict.fromkeys(evaluator_ids)]


def baseline_column(columns: Sequence[Column], baseline: int | None) -> int:
    """The column the others are held against: the one asked for, else the first with
    the defaults in code (no variant, no overrides), else the first."""
    if baseline is None:
        defaults = [i for i, column in enumerate(columns) if not column.choice.merged]
        return defaults[0] if defaults else 0
    return check_baseline(baseline, len(columns))


def start_comparison(
    tenant: Tenant,
    workflow_name: str,
    columns: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    author: Author,
    *,
    from_step: str | None = None,
    dataset_version: DatasetVersion | None = None,
    evaluators: Sequence[Any] | None = None,
    baseline: int | None = None,
    repeat: int = 1,
) -> Comparison:
    """Start `repeat` runs per (row, column), all at once in one transaction: past runs
    are replayed (from `from_step` if given), custom inputs run from the start, and so
    do the rows of a dataset's version, after the rows given. Each cell is scored by
    `evaluators` (default: all of the workflow's) once its run finishes."""
    workflow = workflow_or_404(tenant, workflow_name)
    from_dataset = dataset_rows(workflow, dataset_version, from_step)
    check_comparison_size(len(columns), len(rows) + len(from_dataset), repeat)
    chosen_columns = comparison_columns(tenant, workflow, columns)
    chosen_rows = [*comparison_rows(tenant, workflow, rows, from_step), *from_dataset]
    chosen_evaluators = comparison_evaluators(workflow, evaluators)
    comparison = new_comparison(
        tenant, workflow, chosen_columns, chosen_rows, author, from_step, dataset_version
    )
    comparison.baseline = baseline_column(chosen_columns, baseline)
    comparison.repeat = repeat
    with transaction.atomic():
        comparison.save(force_insert=True)
        comparison.evaluators.set(chosen_evaluators)
        PlaygroundRun.objects.bulk_create(
            [
                *run_custom_input_cells(comparison, chosen_columns, chosen_rows, author),
                *replay_past_run_cells(comparison, chosen_columns, chosen_rows, author, from_step),
            ]
        )
    return comparison


def comparison_or_404(tenant: Tenant, comparison_id: Any, *, lock: bool = False) -> Comparison:
    comparisons = Comparison.objects.filter(tenant=tenant).select_related("workflow")
    if lock:
        comparisons = comparisons.select_for_update(of=("self",))
    return get_or_404(comparisons, "Comparison not found.", pk=comparison_id)


class NothingToRerun(Conflict):
    code = "nothing_to_rerun"


def is_failed(cell: dict[str, Any]) -> bool:
    """A cell worth another attempt: its run failed or was cancelled, or an evaluator
    could give it no verdict."""
    return cell["status"] in RERUN_STATUSES or any(
        score["status"] == ScoreStatus.ERROR for score in cell["scores"]
    )


RERUN_STATUSES = (WorkflowRunStatus.FAILED, WorkflowRunStatus.CANCELLED)


def failed_cells(comparison: Comparison) -> list[UUID]:
    """The runs of the finished comparison's latest attempts that failed; refused while
    a cell still runs, and when none failed."""
    latest = [cell for cell in summary_cells(comparison) if cell["is_latest"]]
    running = sum(1 for cell in latest if not cell["is_finished"])
    if running:
        raise Conflict(
            f"The comparison is still running ({running} of {len(latest)} cells); "
            "re-run its failed cells once it has finished.",
            {"running": running},
        )
    failed = [cell["run_id"] for cell in latest if is_failed(cell)]
    if not failed:
        raise NothingToRerun(
            "No cell failed: every run succeeded and every evaluator gave a verdict.",
            {"cells": len(latest)},
        )
    return failed


def next_attempt(record: PlaygroundRun, run: WorkflowRun, author: Author) -> PlaygroundRun:
    """The cell's next attempt (unsaved): the same variant, overrides and source."""
    return PlaygroundRun(
        run=run,
        tenant_id=record.tenant_id,
        kind=record.kind,
        variant_id=record.variant_id,
        variant_name=record.variant_name,
        variant_revision=record.variant_revision,
        overrides=record.overrides,
        source_run_id=record.source_run_id,
        from_step=record.from_step,
        comparison_id=record.comparison_id,
        row=record.row,
        column=record.column,
        repeat=record.repeat,
        attempt=record.attempt + 1,
        created_by=author.user,
        created_by_name=author.name,
        created_at=run.created_at,
    )


def rerun_failed_cells(
    tenant: Tenant, comparison_id: Any, author: Author
) -> tuple[Comparison, list[PlaygroundRun]]:
    """Start a new attempt at each failed cell of a finished comparison (see
    `is_failed`), with the runs' own input and overrides; the earlier attempts stay.
    Returns the comparison and the new cells."""
    with transaction.atomic():
        # Locked so that two clicks start one set of attempts.
        comparison = comparison_or_404(tenant, comparison_id, lock=True)
        records = list(
            PlaygroundRun.objects.filter(run_id__in=failed_cells(comparison))
            .select_related("run")
            .order_by("row", "column", "repeat")
        )
        runs = [record for record in records if record.kind == PlaygroundRun.Kind.RUN]
        started = (
            trigger_workflow_runs(
                tenant,
                comparison.workflow.name,
                [RunRequest(r.run.input, None, r.run.overrides) for r in runs],
                trigger=PLAYGROUND_TRIGGER,
            )
            if runs
            else []
        )
        attempts = [
            next_attempt(record, run, author) for record, run in zip(runs, started, strict=True)
        ]
        for record in records:
            if record.kind == PlaygroundRun.Kind.REPLAY:
                attempts.append(next_attempt(record, replay_again(tenant, record), author))
        PlaygroundRun.objects.bulk_create(attempts)
        announce_cells_added(comparison.pk, [attempt.run_id for attempt in attempts])
    return comparison, attempts


def replay_again(tenant: Tenant, record: PlaygroundRun) -> WorkflowRun:
    if record.source_run_id is None:
        raise Conflict(
            f"Row {record.row} replayed a past run that has been deleted since; "
            "it cannot be replayed again.",
            {"row": record.row},
        )
    return replay_workflow_run(
        tenant,
        record.source_run_id,
        from_step=record.from_step or None,
        overrides=record.run.overrides,
        trigger=PLAYGROUND_TRIGGER,
    )
