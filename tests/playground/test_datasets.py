"""Datasets: inputs saved from past runs, a filter over them, a comparison or a file,
in versions that never change, exported as JSONL and run by comparisons."""

import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground import datasets
from playground.models import Dataset, DatasetMembership, DatasetRow, DatasetVersion
from tests.factories import PlaygroundWorker, member_client, register, register_support
from workflows.engine.runs import trigger_workflow_run
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db

DATASETS = "/api/v1/playground/datasets"


def create(api: APIClient, name: str = "tickets", **fields: Any) -> dict[str, Any]:
    response = api.post(DATASETS, {"workflow": "Support", "name": name, **fields}, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def add(api: APIClient, dataset: dict[str, Any], **body: Any) -> Any:
    return api.post(f"{DATASETS}/{dataset['id']}/rows", body, format="json")


def upload(api: APIClient, dataset: dict[str, Any], text: str, content_type: str) -> Any:
    return api.generic(
        "POST", f"{DATASETS}/{dataset['id']}/upload", text, content_type=content_type
    )


def remove(api: APIClient, dataset: dict[str, Any], body: dict[str, Any]) -> Any:
    return api.post(f"{DATASETS}/{dataset['id']}/rows/remove", body, format="json")


def shown(answer: dict[str, Any]) -> list[tuple[Any, Any, str]]:
    return [(row["input"], row["expected"], row["notes"]) for row in answer["rows"]]


def error(response: Any) -> dict[str, Any]:
    return dict(response.json()["error"])


def test_a_dataset_is_made_renamed_listed_and_deleted(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)

    made = create(api, description="Real tickets")

    assert made == {
        "id": made["id"],
        "workflow": "Support",
        "name": "tickets",
        "description": "Real tickets",
        "version": 0,
        "row_count": 0,
        "created_by": "token:tests",
        "created_at": made["created_at"],
        "updated_at": made["updated_at"],
        "versions": [],
        "shown_version": None,
        "rows": [],
    }
    again = api.post(DATASETS, {"workflow": "Support", "name": "tickets"}, format="json")
    assert again.status_code == 409
    assert error(again) == {
        "code": "conflict",
        "message": "Support already has a dataset named 'tickets'.",
        "details": {"name": "tickets"},
    }
    renamed = api.patch(f"{DATASETS}/{made['id']}", {"name": "refunds"}, format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "refunds")
    register(tenant, "Other")
    api.post(DATASETS, {"workflow": "Other", "name": "other"}, format="json")
    listed = api.get(DATASETS, {"workflow": "Support"}).json()
    assert [d["name"] for d in listed["results"]] == ["refunds"]
    assert api.delete(f"{DATASETS}/{made['id']}").status_code == 204
    assert api.get(f"{DATASETS}/{made['id']}").json() == {
        "error": {
            "code": "not_found",
            "message": "Dataset not found.",
            "details": {"id": made["id"]},
        }
    }


@pytest.mark.usefixtures("tenant")
def test_a_dataset_of_an_unknown_workflow_is_refused(api: APIClient) -> None:
    response = api.post(DATASETS, {"workflow": "Nope", "name": "x"}, format="json")

    assert response.status_code == 404
    assert error(response)["message"] == "Workflow 'Nope' is not registered."


@pytest.mark.usefixtures("tenant")
def test_runs_add_their_inputs_and_outputs_as_expected_once(
    api: APIClient, source: WorkflowRun
) -> None:
    dataset = create(api)

    first = add(api, dataset, runs=[str(source.pk)], expected_from_output=True)

    assert first.status_code == 201
    answer = first.json()
    assert (answer["version"], answer["row_count"], answer["shown_version"]) == (1, 1, 1)
    assert shown(answer) == [
        ({"ticket": "Where is my refund?"}, {"step": "review", "used": {}}, "")
    ]
    assert answer["rows"][0]["source_run"] == str(source.pk)
    assert [(v["number"], v["origin"], v["added"]) for v in answer["versions"]] == [(1, "runs", 1)]
    # The same run again adds nothing and makes no version.
    again = add(api, dataset, runs=[str(source.pk)])
    assert (again.status_code, again.json()["version"]) == (200, 1)
    assert DatasetVersion.objects.count() == 1


def test_runs_of_another_workflow_or_tenant_are_refused(
    api: APIClient,
    other_api: APIClient,
    tenant: Tenant,
    other_tenant: Tenant,
    source: WorkflowRun,
) -> None:
    register(tenant, "Other")
    other = trigger_workflow_run(tenant, "Other", {"x": 1})
    dataset = create(api)

    wrong = add(api, dataset, runs=[str(source.pk), str(other.pk)])

    assert wrong.status_code == 400
    assert error(wrong) == {
        "code": "invalid_request",
        "message": f"runs[1]: run {other.pk} is a run of Other, not Support.",
        "details": {"run": str(other.pk)},
    }
    register_support(other_tenant)
    theirs = create(other_api)
    stolen = add(other_api, theirs, runs=[str(source.pk)])
    assert stolen.status_code == 404
    assert error(stolen)["message"] == f"runs[0]: run {source.pk} not found."
    assert add(other_api, dataset, rows=[{"input": {}}]).status_code == 404
    assert DatasetRow.objects.count() == 0


def test_each_change_makes_a_new_version_and_old_versions_never_change(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    dataset = create(api)
    rows = [
        {"input": {"ticket": "a"}, "expected": "refund", "notes": "angry"},
        {"input": {"ticket": "b"}},
    ]

    v1 = add(api, dataset, rows=rows).json()
    v2 = add(api, dataset, rows=[{"input": {"ticket": "c"}, "expected": {"tag": "bug"}}]).json()
    removed = remove(api, dataset, {"rows": [v2["rows"][0]["id"]]})

    assert removed.status_code == 201
    v3 = removed.json()
    assert shown(v3) == [({"ticket": "b"}, None, ""), ({"ticket": "c"}, {"tag": "bug"}, "")]
    assert [
        (v["number"], v["origin"], v["row_count"], v["added"], v["removed"]) for v in v3["versions"]
    ] == [
        (3, "removal", 2, 0, 1),
        (2, "rows", 3, 1, 0),
        (1, "rows", 2, 2, 0),
    ]
    first = api.get(f"{DATASETS}/{dataset['id']}", {"version": 1}).json()
    assert first["shown_version"] == 1
    assert shown(first) == [({"ticket": "a"}, "refund", "angry"), ({"ticket": "b"}, None, "")]
    assert [r["id"] for r in first["rows"]] == [r["id"] for r in v1["rows"]]
    # Versions share rows: three rows written once, seven places in versions.
    assert (DatasetRow.objects.count(), DatasetMembership.objects.count()) == (3, 7)
    missing = api.get(f"{DATASETS}/{dataset['id']}", {"version": 4})
    assert missing.status_code == 404
    assert error(missing) == {
        "code": "not_found",
        "message": "Dataset 'tickets' has no version 4 (it has 1 to 3).",
        "details": {"version": 4},
    }


def test_only_rows_of_the_newest_version_are_removed(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    dataset = create(api)
    old = add(api, dataset, rows=[{"input": {"n": 1}}]).json()["rows"][0]["id"]
    remove(api, dataset, {"rows": [old]})

    again = remove(api, dataset, {"rows": [old]})

    assert again.status_code == 400
    assert error(again) == {
        "code": "invalid_request",
        "message": f"Not rows of version 2 of 'tickets': {old}.",
        "details": {"rows": [old]},
    }


def test_a_filter_adds_the_matching_production_runs_oldest_first(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    acme = {"customer": "acme"}
    done = trigger_workflow_run(tenant, "Support", {"ticket": "done"}, additional_metadata=acme)
    other = trigger_workflow_run(
        tenant, "Support", {"ticket": "other"}, additional_metadata={"customer": "globex"}
    )
    trigger_workflow_run(
        tenant, "Support", {"ticket": "experiment"}, additional_metadata=acme, trigger="playground"
    )
    PlaygroundWorker(tenant).run_all()
    pending = trigger_workflow_run(tenant, "Support", {"ticket": "new"}, additional_metadata=acme)
    dataset = create(api)

    succeeded = add(api, dataset, filter={"status": "succeeded", "metadata": ["customer:acme"]})
    both = add(api, dataset, filter={"metadata[customer]": "acme"})

    assert shown(succeeded.json()) == [({"ticket": "done"}, None, "")]
    assert [r["source_run"] for r in both.json()["rows"]] == [str(done.pk), str(pending.pk)]
    assert [v["origin"] for v in both.json()["versions"]] == ["filter", "filter"]
    assert other.pk not in DatasetRow.objects.values_list("source_run", flat=True)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"status": "DONE"},
            "filter: status: Use PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, or several "
            "separated by commas.",
        ),
        ({"workflow": "Other"}, "filter: the dataset holds inputs of Support, not Other."),
        ({"colour": "red"}, "filter: colour: Unknown query parameter."),
    ],
)
def test_a_bad_filter_is_refused(
    api: APIClient, tenant: Tenant, filters: dict[str, Any], message: str
) -> None:
    register_support(tenant)
    dataset = create(api)

    response = add(api, dataset, filter=filters)

    assert (response.status_code, error(response)["message"]) == (400, message)


def test_a_filter_matching_too_many_runs_is_refused(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "MAX_FILTERED_RUNS", 2)
    register_support(tenant)
    for n in range(3):
        trigger_workflow_run(tenant, "Support", {"n": n})
    dataset = create(api)

    response = add(api, dataset, filter={})

    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid_request",
        "message": "The filter matches 3 runs; at most 2 are added at once. "
        "Narrow it (status, time, event, metadata).",
        "details": {"runs": 3, "max": 2},
    }
    assert DatasetRow.objects.count() == 0


@pytest.mark.usefixtures("tenant")
def test_a_comparisons_rows_are_added_with_their_source_runs(
    api: APIClient, source: WorkflowRun
) -> None:
    comparison = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}],
            "rows": [{"run": str(source.pk)}, {"input": {"ticket": "Site down"}}],
        },
        format="json",
    ).json()
    dataset = create(api)

    response = add(api, dataset, comparison=comparison["id"])

    assert response.status_code == 201
    assert [(r["input"], r["source_run"]) for r in response.json()["rows"]] == [
        ({"ticket": "Where is my refund?"}, str(source.pk)),
        ({"ticket": "Site down"}, None),
    ]
    assert response.json()["versions"][0]["origin"] == "comparison"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Name one source of rows: runs, filter, comparison or rows."),
        (
            {"rows": [{"input": {}}], "runs": [str(uuid.uuid4())]},
            "Name one source of rows: runs, filter, comparison or rows.",
        ),
        (
            {"rows": [{"input": {}}], "expected_from_output": True},
            "expected_from_output goes with runs or filter.",
        ),
        (
            {"rows": [{"input": "text"}]},
            'rows: 0: input: Expected a dictionary of items but got type "str".',
        ),
        ({"rows": [{"input": {}, "score": 1}]}, "rows: 0: Unknown field(s): score."),
    ],
)
def test_bad_requests_for_rows_are_refused(
    api: APIClient, tenant: Tenant, body: dict[str, Any], message: str
) -> None:
    register_support(tenant)
    dataset = create(api)

    response = add(api, dataset, **body)

    assert (response.status_code, error(response)["message"]) == (400, message)


def test_jsonl_and_csv_files_add_their_rows(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    dataset = create(api)
    jsonl = (
        '{"input": {"ticket": "a"}, "expected": "refund", "notes": "from email"}\n'
        "\n"
        '{"input": {"ticket": "b", "lang": "fr"}}\n'
    )

    from_file = api.post(
        f"{DATASETS}/{dataset['id']}/upload",
        {"file": SimpleUploadedFile("tickets.jsonl", jsonl.encode(), "application/octet-stream")},
        format="multipart",
    )
    by_field = upload(
        api, dataset, 'ticket,lang,expected,notes\nc,en,"{""tag"": 1}",\n', "text/csv"
    )
    by_input = upload(
        api,
        dataset,
        'input,expected\n"{""ticket"": ""d""}",plain words\n',
        "text/csv; charset=utf-8",
    )

    assert (from_file.status_code, by_field.status_code, by_input.status_code) == (201, 201, 201)
    assert shown(by_input.json()) == [
        ({"ticket": "a"}, "refund", "from email"),
        ({"ticket": "b", "lang": "fr"}, None, ""),
        ({"ticket": "c", "lang": "en"}, {"tag": 1}, ""),
        ({"ticket": "d"}, "plain words", ""),
    ]
    assert [v["origin"] for v in by_input.json()["versions"]] == ["upload"] * 3


@pytest.mark.parametrize(
    ("text", "content_type", "message"),
    [
        (
            '{"input": {}}\n{"input": {}\n',
            "application/x-ndjson",
            "line 2 is not valid JSON: Expecting ',' delimiter: line 1 column 13 (char 12).",
        ),
        (
            '{"input": {}}\n\n["a"]\n',
            "application/x-ndjson",
            "line 3: each line is a JSON object with input, and expected and notes if any.",
        ),
        (
            '{"input": [1]}\n',
            "application/x-ndjson",
            "line 1: input must be a JSON object.",
        ),
        (
            '{"input": {}, "note": "x"}\n',
            "application/x-ndjson",
            "line 1: unknown field(s) note; a row has input, and expected and notes if any.",
        ),
        (
            '{"input": {}, "notes": 3}\n',
            "application/x-ndjson",
            "line 1: notes must be text.",
        ),
        ("\n\n", "application/x-ndjson", "The file has no rows."),
        ("ticket\n", "text/csv", "The file has no rows."),
        ("ticket,lang\na,en\nb\n", "text/csv", "line 3: 1 values for 2 columns."),
        (
            'input\n"{""a"": 1}"\nnot json\n',
            "text/csv",
            "line 3: input is not valid JSON: Expecting value: line 1 column 1 (char 0).",
        ),
        ('input\n"[1, 2]"\n', "text/csv", "line 2: input must be a JSON object."),
        (
            "input,ticket\n{},a\n",
            "text/csv",
            "line 1: with an input column, the others may only be expected and notes, not ticket.",
        ),
        (
            "notes,expected\na,b\n",
            "text/csv",
            "line 1: name a column per input field, or an input column of JSON objects.",
        ),
        ("a,a\n1,2\n", "text/csv", "line 1: column(s) named twice: a."),
    ],
)
def test_a_bad_file_is_refused_at_its_first_bad_line(
    api: APIClient, tenant: Tenant, text: str, content_type: str, message: str
) -> None:
    register_support(tenant)
    dataset = create(api)

    response = upload(api, dataset, text, content_type)

    assert (response.status_code, error(response)["message"]) == (400, message)
    assert DatasetRow.objects.count() == 0


def test_a_file_of_another_kind_is_refused(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    dataset = create(api)

    response = upload(api, dataset, "<xml/>", "application/xml")

    assert response.status_code == 415
    assert error(response) == {
        "code": "unsupported_media_type",
        "message": "Upload a JSONL file (.jsonl, application/x-ndjson) or a CSV file "
        "(.csv, text/csv).",
        "details": {"media_type": "application/xml", "filename": ""},
    }


def test_a_file_larger_than_a_message_is_refused(
    api: APIClient, tenant: Tenant, settings: Any
) -> None:
    register_support(tenant)
    dataset = create(api)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = settings.HATCHET_MAX_MESSAGE_BYTES = 100

    text = '{"input": {"ticket": "x"}}\n' * 10

    responses = [
        upload(api, dataset, text, "application/x-ndjson"),
        api.post(
            f"{DATASETS}/{dataset['id']}/upload",
            {"file": SimpleUploadedFile("big.jsonl", text.encode())},
            format="multipart",
        ),
    ]

    assert [(r.status_code, error(r)["message"]) for r in responses] == [
        (413, "The request body is larger than 100 bytes.")
    ] * 2
    assert DatasetRow.objects.count() == 0


def test_a_dataset_holds_at_most_its_rows_cap(
    api: APIClient, tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_MAX_DATASET_ROWS = 2
    register_support(tenant)
    dataset = create(api)
    add(api, dataset, rows=[{"input": {"n": 1}}])

    response = add(api, dataset, rows=[{"input": {"n": 2}}, {"input": {"n": 3}}])

    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid_request",
        "message": "Dataset 'tickets' would hold 3 rows; a dataset holds at most 2.",
        "details": {"rows": 3, "max": 2},
    }


def test_an_export_is_jsonl_that_an_upload_takes_back(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    dataset = create(api)
    rows = [
        {"input": {"ticket": "Où est mon colis ?"}, "expected": {"tag": "shipping"}, "notes": "fr"},
        {"input": {"ticket": "b"}, "expected": None, "notes": ""},
    ]
    add(api, dataset, rows=rows)
    add(api, dataset, rows=[{"input": {"ticket": "later"}}])

    export = api.get(f"{DATASETS}/{dataset['id']}/export", {"version": 1})

    assert export.status_code == 200
    assert export["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert export["Content-Disposition"] == 'attachment; filename="tickets-v1.jsonl"'
    text = export.content.decode()
    assert [json.loads(line) for line in text.splitlines()] == rows
    copy = create(api, name="copy")
    back = upload(api, copy, text, "application/x-ndjson")
    assert [{k: r[k] for k in ("input", "expected", "notes")} for r in back.json()["rows"]] == rows
    missing = api.get(f"{DATASETS}/{dataset['id']}/export", {"version": 3})
    assert (missing.status_code, error(missing)["message"]) == (
        404,
        "Dataset 'tickets' has no version 3 (it has 1 to 2).",
    )


def test_viewers_read_datasets_and_editors_change_them(tenant: Tenant, api: APIClient) -> None:
    register_support(tenant)
    dataset = create(api)
    add(api, dataset, rows=[{"input": {"n": 1}}])
    viewer = member_client(tenant, "viewer", username="vi")
    editor = member_client(tenant, "editor", username="ed")

    assert viewer.get(f"{DATASETS}/{dataset['id']}").status_code == 200
    assert viewer.get(f"{DATASETS}/{dataset['id']}/export").status_code == 200
    refused = viewer.post(
        f"{DATASETS}/{dataset['id']}/rows", {"rows": [{"input": {}}]}, format="json"
    )
    assert refused.json() == {
        "error": {
            "code": "permission_denied",
            "message": "This needs the editor role.",
            "details": {},
        }
    }
    assert (
        editor.post(
            f"{DATASETS}/{dataset['id']}/rows", {"rows": [{"input": {}}]}, format="json"
        ).status_code
        == 201
    )
    assert Dataset.objects.get().version == 2


def compare(api: APIClient, **body: Any) -> Any:
    return api.post(
        "/api/v1/playground/compare",
        {"workflow": "Support", "columns": [{"baseline": True}], **body},
        format="json",
    )


def test_a_comparison_runs_a_version_of_a_dataset_and_records_it(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    dataset = create(api)
    v1 = add(
        api,
        dataset,
        rows=[{"input": {"ticket": "a"}, "expected": "refund"}, {"input": {"ticket": "b"}}],
    ).json()
    add(api, dataset, rows=[{"input": {"ticket": "c"}}])

    response = compare(api, dataset=dataset["id"], dataset_version=1)

    assert response.status_code == 201
    matrix = response.json()
    assert (matrix["dataset"], matrix["dataset_version"]) == (dataset["id"], 1)
    assert matrix["rows"] == [
        {
            "title": "tickets #1",
            "source_run": None,
            "input": {"ticket": "a"},
            "expected": "refund",
            "dataset_row": v1["rows"][0]["id"],
        },
        {
            "title": "tickets #2",
            "source_run": None,
            "input": {"ticket": "b"},
            "expected": None,
            "dataset_row": v1["rows"][1]["id"],
        },
    ]
    assert [c["kind"] for c in matrix["cells"]] == ["run", "run"]
    newest = compare(api, dataset=dataset["id"]).json()
    assert (newest["dataset_version"], len(newest["rows"])) == (2, 3)
    listed = api.get("/api/v1/playground/compare").json()["results"]
    assert [(c["dataset"], c["dataset_version"]) for c in listed] == [
        (dataset["id"], 2),
        (dataset["id"], 1),
    ]


def test_a_comparison_refuses_a_dataset_it_cannot_run(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    register(tenant, "Other")
    empty = create(api)
    other = api.post(DATASETS, {"workflow": "Other", "name": "o"}, format="json").json()
    add(api, other, rows=[{"input": {}}])

    cases = [
        (compare(api, dataset=empty["id"]), 400, "Dataset 'tickets' has no rows yet."),
        (compare(api, dataset=other["id"]), 400, "Dataset 'o' holds inputs of Other, not Support."),
        (
            compare(api, dataset=other["id"], dataset_version=2),
            404,
            "Dataset 'o' has no version 2 (it has 1 to 1).",
        ),
        (
            compare(api, dataset_version=1, rows=[{"input": {}}]),
            400,
            "dataset_version needs a dataset.",
        ),
        (compare(api, dataset=str(uuid.uuid4())), 404, "Dataset not found."),
    ]

    assert [(r.status_code, error(r)["message"]) for r, _, _ in cases] == [
        (status, message) for _, status, message in cases
    ]
    assert WorkflowRun.objects.count() == 0


def test_a_comparison_starts_at_most_its_cells_cap(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    fifty = create(api, name="fifty")
    add(api, fifty, rows=[{"input": {"n": n}} for n in range(50)])
    four_columns = [{"baseline": True}] * 4

    started = compare(api, dataset=fifty["id"], columns=four_columns)
    refused = compare(api, dataset=fifty["id"], columns=four_columns, rows=[{"input": {}}])

    assert started.status_code == 201
    assert len(started.json()["cells"]) == 200
    assert refused.status_code == 400
    assert error(refused) == {
        "code": "invalid_request",
        "message": "51 rows x 4 columns is 204 runs; a comparison has at most 200.",
        "details": {"cells": 204, "max": 200},
    }
