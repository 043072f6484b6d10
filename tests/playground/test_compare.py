"""Comparisons: variants (or the baseline) over past runs or custom inputs, as a matrix."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from hatchet.models import APIToken, Tenant
from tests.api.conftest import register
from tests.playground.conftest import PlaygroundWorker, socket_close_code
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


def variant(api: APIClient, name: str, overrides: dict[str, Any]) -> str:
    response = api.post(
        "/api/v1/playground/variants",
        {"workflow": "Support", "name": name, "overrides": overrides},
        format="json",
    )
    return str(response.json()["id"])


def compare(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/playground/compare", {"workflow": "Support", **body}, format="json")


def test_a_comparison_starts_one_run_per_cell_and_fills_its_matrix(
    api: APIClient, tenant: Tenant, source: WorkflowRun
) -> None:
    terse = variant(api, "terse", {"draft": {"system_prompt": "Be brief."}})

    response = compare(
        api,
        columns=[{"baseline": True}, {"variant": terse}],
        rows=[{"run": str(source.pk)}, {"input": {"ticket": "Site down"}, "title": "outage"}],
    )

    assert response.status_code == 201
    matrix = response.json()
    assert [c["title"] for c in matrix["columns"]] == ["baseline", "terse r1"]
    assert [c["overrides"] for c in matrix["columns"]] == [
        {},
        {"draft": {"system_prompt": "Be brief."}},
    ]
    assert [(r["title"], r["source_run"]) for r in matrix["rows"]] == [
        (f"run {str(source.pk)[:8]}", str(source.pk)),
        ("outage", None),
    ]
    assert [(c["row"], c["column"], c["kind"], c["status"]) for c in matrix["cells"]] == [
        (0, 0, "replay", "PENDING"),
        (0, 1, "replay", "PENDING"),
        (1, 0, "run", "PENDING"),
        (1, 1, "run", "PENDING"),
    ]
    assert set(WorkflowRun.objects.exclude(pk=source.pk).values_list("trigger", flat=True)) == {
        "playground"
    }
    assert matrix["is_finished"] is False

    worker = PlaygroundWorker(tenant)
    usage = {"prompt_tokens": 12, "completion_tokens": 30, "model": "gpt-test"}
    worker.run_step("classify")
    worker.run_step("draft", usage=usage)
    worker.run_step("review")

    done = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()
    assert done["is_finished"] is True
    cells = {(c["row"], c["column"]): c for c in done["cells"]}
    assert cells[(1, 1)]["status"] == "SUCCEEDED"
    assert cells[(1, 1)]["output_step"] == "review"
    assert cells[(1, 1)]["outputs"]["draft"] == {
        "step": "draft",
        "used": {"system_prompt": "Be brief."},
    }
    assert cells[(1, 0)]["outputs"]["draft"] == {"step": "draft", "used": {}}
    assert cells[(0, 0)]["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 30,
        "total_tokens": 42,
        "model": "gpt-test",
    }
    assert all(c["duration_ms"] is not None and c["duration_ms"] >= 0 for c in done["cells"])
    listed = api.get("/api/v1/playground/compare", {"workflow": "Support"}).json()
    assert [c["id"] for c in listed["results"]] == [matrix["id"]]


def test_a_comparison_from_a_step_reuses_each_past_runs_earlier_outputs(
    api: APIClient, tenant: Tenant, source: WorkflowRun
) -> None:
    response = compare(
        api,
        columns=[{"baseline": True}, {"overrides": {"draft": {"temperature": 0.9}}}],
        rows=[{"run": str(source.pk)}],
        from_step="draft",
    )

    assert response.status_code == 201
    assert PlaygroundWorker(tenant).claim("classify") == []
    assert [a.overrides for a in PlaygroundWorker(tenant).claim("draft")] == [
        {},
        {"temperature": 0.9},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"columns": [{"baseline": True}], "rows": [{"input": {}}], "from_step": "draft"},
            "rows[0]: a custom input has no recorded outputs to start from 'draft'; "
            "use past runs, or compare whole runs.",
        ),
        (
            {"columns": [{"baseline": True}] * 11, "rows": [{"input": {}}] * 10},
            "10 rows x 11 columns is 110 runs; a comparison has at most 100.",
        ),
        (
            {"columns": [{}], "rows": [{"input": {}}]},
            "columns[0] must have baseline, variant or overrides.",
        ),
        ({"columns": [{"baseline": True}], "rows": [{}]}, "rows[0] must have run or input."),
        (
            {"columns": [], "rows": [{"input": {}}]},
            "A comparison needs at least one column and one row.",
        ),
    ],
)
def test_bad_comparisons_are_refused_and_start_nothing(
    api: APIClient, source: WorkflowRun, body: dict[str, Any], message: str
) -> None:
    response = compare(api, **body)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert WorkflowRun.objects.count() == 1


def test_a_variant_of_another_workflow_is_refused(
    api: APIClient, tenant: Tenant, source: WorkflowRun
) -> None:
    register(tenant, "Other")
    other = api.post(
        "/api/v1/playground/variants", {"workflow": "Other", "name": "x"}, format="json"
    ).json()["id"]

    response = compare(api, columns=[{"variant": other}], rows=[{"input": {}}])

    assert response.json()["error"]["message"] == "Variant 'x' belongs to Other, not Support."


@pytest.mark.django_db(transaction=True)
def test_the_comparison_socket_refuses_strangers_and_unknown_comparisons(tenant: Tenant) -> None:
    _, secret = APIToken.issue(tenant, "socket")

    path = "/ws/playground/compare/00000000-0000-0000-0000-000000000000"
    auth = [(b"authorization", f"Bearer {secret}".encode())]
    assert async_to_sync(socket_close_code)(path, []) == 4401
    assert async_to_sync(socket_close_code)(path, auth) == 4404
