"""Datasets: named sets of a workflow's inputs, each maybe with the output expected of
it, filled from past runs, a filter over them, a comparison's rows or an uploaded file
(JSONL or CSV). Every change of rows makes a new version; old versions never change,
so a comparison names the version it ran. Each action validates, writes in one
transaction and returns what it touched."""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from hatchet import jsontext
from hatchet.errors import Conflict, InvalidRequest, NotFound
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from playground.models import (
    PLAYGROUND_TRIGGER,
    Comparison,
    Dataset,
    DatasetMembership,
    DatasetRow,
    DatasetVersion,
)
from playground.outcomes import output_step
from playground.services import Author, workflow_or_404
from workflows.models import StepRun, WorkflowRun, WorkflowVersion
from workflows.serializers import RunFilterSerializer

# Most runs one filter adds: a filter that matches more is refused, to be narrowed.
MAX_FILTERED_RUNS = 1000

# The fields of a JSONL line; CSV columns with these names are not input fields.
ROW_FIELDS = ("input", "expected", "notes")


class UnsupportedFile(InvalidRequest):
    code = "unsupported_media_type"
    status = 415


@dataclass(frozen=True)
class NewRow:
    """A row to add: an input, maybe the output expected of it, notes, the run it is
    the input of."""

    input: dict[str, Any]
    expected: Any = None
    notes: str = ""
    source_run_id: UUID | None = None


def dataset_or_404(tenant: Tenant, dataset_id: Any, *, lock: bool = False) -> Dataset:
    datasets = Dataset.objects.filter(tenant=tenant).select_related("workflow")
    if lock:
        datasets = datasets.select_for_update(of=("self",))
    return get_or_404(datasets, "Dataset not found.", pk=dataset_id)


def version_of(dataset: Dataset, number: int | None = None) -> DatasetVersion | None:
    """The dataset's version `number`, or its newest (None while it has no rows yet)."""
    if number is None:
        number = dataset.version
        if number == 0:
            return None
    version = dataset.versions.filter(number=number).first()
    if version is None:
        have = "no versions yet" if dataset.version == 0 else f"1 to {dataset.version}"
        raise NotFound(
            f"Dataset '{dataset.name}' has no version {number} (it has {have}).",
            {"version": number},
        )
    return version


def dataset_version_or_404(
    tenant: Tenant, dataset_id: Any, number: int | None = None
) -> DatasetVersion:
    """A version with rows to run: `number`, or the newest."""
    dataset = dataset_or_404(tenant, dataset_id)
    version = version_of(dataset, number)
    if version is None:
        raise InvalidRequest(
            f"Dataset '{dataset.name}' has no rows yet.", {"dataset": str(dataset.pk)}
        )
    return version


def save_dataset(dataset: Dataset, *, creating: bool) -> None:
    try:
        with transaction.atomic():
            dataset.save(force_insert=creating)
    except IntegrityError:
        raise Conflict(
            f"{dataset.workflow.name} already has a dataset named '{dataset.name}'.",
            {"name": dataset.name},
        ) from None


def create_dataset(
    tenant: Tenant, workflow_name: str, name: str, author: Author, description: str = ""
) -> Dataset:
    """An empty dataset: its first rows make version 1."""
    now = timezone.now()
    dataset = Dataset(
        tenant=tenant,
        workflow=workflow_or_404(tenant, workflow_name),
        name=name,
        description=description,
        created_by=author.user,
        created_by_name=author.name,
        created_at=now,
        updated_at=now,
    )
    save_dataset(dataset, creating=True)
    return dataset


def edit_dataset(
    tenant: Tenant, dataset_id: Any, *, name: str | None = None, description: str | None = None
) -> Dataset:
    """Rename or describe it; its rows and versions stay as they are."""
    with transaction.atomic():
        dataset = dataset_or_404(tenant, dataset_id, lock=True)
        if (name is None or name == dataset.name) and (
            description is None or description == dataset.description
        ):
            return dataset
        dataset.name = dataset.name if name is None else name
        dataset.description = dataset.description if description is None else description
        dataset.updated_at = timezone.now()
        save_dataset(dataset, creating=False)
    return dataset


def delete_dataset(tenant: Tenant, dataset_id: Any) -> None:
    """Comparisons that ran it keep their rows and the version's number."""
    dataset_or_404(tenant, dataset_id).delete()


def current_row_ids(dataset: Dataset) -> list[UUID]:
    if dataset.version == 0:
        return []
    memberships = DatasetMembership.objects.filter(
        version__dataset=dataset, version__number=dataset.version
    )
    return list(memberships.order_by("position").values_list("row_id", flat=True))


def new_version(
    dataset: Dataset,
    kept: Sequence[UUID],
    added: Sequence[DatasetRow],
    origin: str,
    author: Author,
    removed: int = 0,
) -> DatasetVersion:
    """The next version: the kept rows in their order, then the added ones (unsaved,
    saved here). The caller holds the dataset's lock."""
    row_count = len(kept) + len(added)
    if row_count > settings.HATCHET_MAX_DATASET_ROWS:
        raise InvalidRequest(
            f"Dataset '{dataset.name}' would hold {row_count} rows; a dataset holds at most "
            f"{settings.HATCHET_MAX_DATASET_ROWS}.",
            {"rows": row_count, "max": settings.HATCHET_MAX_DATASET_ROWS},
        )
    now = timezone.now()
    dataset.version += 1
    dataset.row_count = row_count
    dataset.updated_at = now
    dataset.save(update_fields=["version", "row_count", "updated_at"])
    version = DatasetVersion.objects.create(
        dataset=dataset,
        number=dataset.version,
        origin=origin,
        row_count=row_count,
        added=len(added),
        removed=removed,
        author=author.user,
        author_name=author.name,
        created_at=now,
    )
    DatasetRow.objects.bulk_create(added)
    DatasetMembership.objects.bulk_create(
        DatasetMembership(version=version, row_id=row_id, position=position)
        for position, row_id in enumerate([*kept, *(row.pk for row in added)])
    )
    return version


def add_rows(
    tenant: Tenant, dataset_id: Any, rows: Iterable[NewRow], origin: str, author: Author
) -> tuple[Dataset, DatasetVersion | None, int]:
    """Add rows as a new version: (the dataset, its newest version, how many rows were
    added). A run already in the dataset is not added again; when nothing is new, no
    version is made."""
    with transaction.atomic():
        dataset = dataset_or_404(tenant, dataset_id, lock=True)
        kept = current_row_ids(dataset)
        seen_runs = set(
            DatasetRow.objects.filter(pk__in=kept, source_run__isnull=False).values_list(
                "source_run_id", flat=True
            )
        )
        added = []
        for row in rows:
            if row.source_run_id is not None:
                if row.source_run_id in seen_runs:
                    continue
                seen_runs.add(row.source_run_id)
            added.append(
                DatasetRow(
                    dataset=dataset,
                    input=row.input,
                    expected=row.expected,
                    notes=row.notes,
                    source_run_id=row.source_run_id,
                )
            )
        if not added:
            return dataset, version_of(dataset), 0
        version = new_version(dataset, kept, added, origin, author)
    return dataset, version, len(added)


def outputs_of(runs: Sequence[WorkflowRun]) -> dict[UUID, Any]:
    """Each run's output: that of its workflow's last step (the one a comparison shows)."""
    shown = {
        version.pk: output_step(version)
        for version in WorkflowVersion.objects.filter(pk__in={run.version_id for run in runs})
    }
    step_runs = StepRun.objects.filter(workflow_run_id__in=[run.pk for run in runs]).values_list(
        "workflow_run_id", "step__name", "output"
    )
    by_run = {run.pk: shown[run.version_id] for run in runs}
    return {run_id: output for run_id, step, output in step_runs if by_run[run_id] == step}


def rows_of_runs(runs: Sequence[WorkflowRun], expected_from_output: bool) -> list[NewRow]:
    outputs = outputs_of(runs) if expected_from_output else {}
    return [NewRow(run.input, outputs.get(run.pk), "", run.pk) for run in runs]


def add_runs(
    tenant: Tenant,
    dataset_id: Any,
    run_ids: Sequence[Any],
    author: Author,
    *,
    expected_from_output: bool = False,
) -> tuple[Dataset, DatasetVersion | None, int]:
    """Add the inputs of past runs of the dataset's workflow, in the order given;
    with `expected_from_output`, each run's output is what is expected of its input."""
    dataset = dataset_or_404(tenant, dataset_id)
    found = WorkflowRun.objects.filter(tenant=tenant).select_related("workflow")
    runs = {str(run.pk): run for run in found.filter(pk__in=run_ids)}
    chosen = []
    for index, run_id in enumerate(run_ids):
        run = runs.get(str(run_id))
        if run is None:
            raise NotFound(f"runs[{index}]: run {run_id} not found.", {"run": str(run_id)})
        if run.workflow_id != dataset.workflow_id:
            raise InvalidRequest(
                f"runs[{index}]: run {run_id} is a run of {run.workflow.name}, not "
                f"{dataset.workflow.name}.",
                {"run": str(run_id)},
            )
        chosen.append(run)
    return add_rows(tenant, dataset.pk, rows_of_runs(chosen, expected_from_output), "runs", author)


def add_filtered_runs(
    tenant: Tenant,
    dataset_id: Any,
    filters: dict[str, Any],
    author: Author,
    *,
    expected_from_output: bool = False,
) -> tuple[Dataset, DatasetVersion | None, int]:
    """Add the inputs of the dataset's workflow's runs that the filter matches (the
    runs list's: status, created_after/before, event, metadata), oldest first; the
    playground's own runs are experiments, not inputs, and are left out."""
    dataset = dataset_or_404(tenant, dataset_id)
    query = RunFilterSerializer(data=filters)
    if not query.is_valid():
        raise serializers.ValidationError({"filter": query.errors})
    workflow = query.validated_data.get("workflow", dataset.workflow.name)
    if workflow != dataset.workflow.name:
        raise InvalidRequest(
            f"filter: the dataset holds inputs of {dataset.workflow.name}, not {workflow}.",
            {"workflow": workflow},
        )
    runs = WorkflowRun.objects.filter(tenant=tenant, workflow=dataset.workflow).exclude(
        trigger=PLAYGROUND_TRIGGER
    )
    matched = query.filter(runs, filters).order_by("created_at", "id")
    count = matched.count()
    if count > MAX_FILTERED_RUNS:
        raise InvalidRequest(
            f"The filter matches {count} runs; at most {MAX_FILTERED_RUNS} are added at once. "
            "Narrow it (status, time, event, metadata).",
            {"runs": count, "max": MAX_FILTERED_RUNS},
        )
    return add_rows(
        tenant, dataset.pk, rows_of_runs(list(matched), expected_from_output), "filter", author
    )


def add_comparison_rows(
    tenant: Tenant, dataset_id: Any, comparison_id: Any, author: Author
) -> tuple[Dataset, DatasetVersion | None, int]:
    """Add a comparison's rows: each row's input, with the run it came from and the
    output expected of it where the row has them."""
    dataset = dataset_or_404(tenant, dataset_id)
    comparisons = Comparison.objects.filter(tenant=tenant).select_related("workflow")
    comparison = get_or_404(comparisons, "Comparison not found.", pk=comparison_id)
    if comparison.workflow_id != dataset.workflow_id:
        raise InvalidRequest(
            f"The comparison is of {comparison.workflow.name}, not {dataset.workflow.name}.",
            {"comparison": str(comparison.pk)},
        )
    named = {row["source_run"] for row in comparison.rows if row.get("source_run")}
    # A run deleted since is no source any more; its input is kept.
    alive = {
        str(run_id)
        for run_id in WorkflowRun.objects.filter(tenant=tenant, pk__in=named).values_list(
            "pk", flat=True
        )
    }
    rows = [
        NewRow(
            row["input"],
            row.get("expected"),
            "",
            UUID(row["source_run"]) if row.get("source_run") in alive else None,
        )
        for row in comparison.rows
    ]
    return add_rows(tenant, dataset.pk, rows, "comparison", author)


def remove_rows(
    tenant: Tenant, dataset_id: Any, row_ids: Sequence[UUID], author: Author
) -> tuple[Dataset, DatasetVersion]:
    """A new version without the rows named; each must be in the newest version."""
    with transaction.atomic():
        dataset = dataset_or_404(tenant, dataset_id, lock=True)
        kept = current_row_ids(dataset)
        unknown = sorted({str(row_id) for row_id in row_ids} - {str(row_id) for row_id in kept})
        if unknown:
            raise InvalidRequest(
                f"Not rows of version {dataset.version} of '{dataset.name}': {', '.join(unknown)}.",
                {"rows": unknown},
            )
        removing = set(row_ids)
        remaining = [row_id for row_id in kept if row_id not in removing]
        version = new_version(
            dataset, remaining, [], "removal", author, removed=len(kept) - len(remaining)
        )
    return dataset, version


# Uploads.


def checked_row(
    where: str, input: Any, expected: Any = None, notes: Any = "", *, unknown: Sequence[str] = ()
) -> NewRow:
    """A row of a file, or a refusal whose message starts with `where` (its line)."""
    if unknown:
        raise InvalidRequest(
            f"{where}: unknown field(s) {', '.join(unknown)}; a row has input, and expected "
            "and notes if any.",
            {"line": where},
        )
    if not isinstance(input, dict):
        raise InvalidRequest(f"{where}: input must be a JSON object.", {"line": where})
    if not isinstance(notes, str):
        raise InvalidRequest(f"{where}: notes must be text.", {"line": where})
    try:
        jsontext.check({"input": input, "expected": expected, "notes": notes})
    except jsontext.JSONInputError as refused:
        raise InvalidRequest(f"{where}: {refused.message}", {"line": where}) from None
    return NewRow(input, expected, notes)


def parse_jsonl(text: str) -> list[NewRow]:
    """One JSON object per line, {input, expected?, notes?}; blank lines are skipped."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            value = jsontext.load(line, where)
        except jsontext.JSONInputError as refused:
            raise InvalidRequest(refused.message, {"line": where}) from None
        if not isinstance(value, dict) or "input" not in value:
            raise InvalidRequest(
                f"{where}: each line is a JSON object with input, and expected and notes if any.",
                {"line": where},
            )
        unknown = sorted(set(value) - set(ROW_FIELDS))
        rows.append(
            checked_row(
                where,
                value["input"],
                value.get("expected"),
                value.get("notes", ""),
                unknown=unknown,
            )
        )
    return rows


def csv_expected(text: str) -> Any:
    """An expected cell: JSON when it parses as JSON, else the text itself; empty is
    nothing expected."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_csv(text: str) -> list[NewRow]:
    """A header, then a row per input: an `input` column of JSON objects, or a column
    per input field (its values are text); `expected` and `notes` columns if any."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            return []
        duplicated = sorted({name for name in header if header.count(name) > 1})
        if duplicated:
            raise InvalidRequest(
                f"line 1: column(s) named twice: {', '.join(duplicated)}.", {"line": "line 1"}
            )
        fields = [name for name in header if name not in ROW_FIELDS]
        if "input" in header and fields:
            raise InvalidRequest(
                f"line 1: with an input column, the others may only be expected and notes, "
                f"not {', '.join(fields)}.",
                {"line": "line 1"},
            )
        if "input" not in header and not fields:
            raise InvalidRequest(
                "line 1: name a column per input field, or an input column of JSON objects.",
                {"line": "line 1"},
            )
        rows = []
        for cells in reader:
            where = f"line {reader.line_num}"
            if not any(cells):
                continue
            if len(cells) != len(header):
                raise InvalidRequest(
                    f"{where}: {len(cells)} values for {len(header)} columns.", {"line": where}
                )
            row = dict(zip(header, cells, strict=True))
            if "input" in row:
                try:
                    input = jsontext.load(row["input"], f"{where}: input")
                except jsontext.JSONInputError as refused:
                    raise InvalidRequest(refused.message, {"line": where}) from None
            else:
                input = {name: row[name] for name in fields}
            rows.append(
                checked_row(
                    where, input, csv_expected(row.get("expected", "")), row.get("notes", "")
                )
            )
    except csv.Error as refused:
        where = f"line {reader.line_num}"
        raise InvalidRequest(f"{where}: {refused}.", {"line": where}) from None
    return rows


FILE_FORMATS = {"jsonl": parse_jsonl, "csv": parse_csv}


def file_format(media_type: str, filename: str = "") -> str:
    """jsonl or csv, by the file name's extension, else by its media type."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ("jsonl", "ndjson"):
        return "jsonl"
    if extension == "csv":
        return "csv"
    media_type = media_type.split(";")[0].strip().lower()
    if media_type in ("application/x-ndjson", "application/jsonl", "application/jsonlines"):
        return "jsonl"
    if media_type in ("text/csv", "application/csv"):
        return "csv"
    raise UnsupportedFile(
        "Upload a JSONL file (.jsonl, application/x-ndjson) or a CSV file (.csv, text/csv).",
        {"media_type": media_type, "filename": filename},
    )


def add_upload(
    tenant: Tenant,
    dataset_id: Any,
    content: bytes,
    media_type: str,
    filename: str,
    author: Author,
) -> tuple[Dataset, DatasetVersion | None, int]:
    """Add the rows of an uploaded JSONL or CSV file (told apart by `file_format`); the
    first bad line refuses the whole file."""
    dataset = dataset_or_404(tenant, dataset_id)
    parse = FILE_FORMATS[file_format(media_type, filename)]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"The file is not UTF-8: {exc}.") from None
    rows = parse(text)
    if not rows:
        raise InvalidRequest("The file has no rows.")
    return add_rows(tenant, dataset.pk, rows, "upload", author)


def export_jsonl(version: DatasetVersion | None) -> str:
    """The version's rows as JSONL, one {input, expected, notes} per line: what an
    upload takes back."""
    rows = [] if version is None else version.ordered_rows()
    return "".join(
        json.dumps(
            {"input": row.input, "expected": row.expected, "notes": row.notes}, ensure_ascii=False
        )
        + "\n"
        for row in rows
    )
