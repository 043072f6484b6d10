"""Comparisons that repeat each cell, re-run their failed cells, sum up against a
baseline the viewer chooses on the socket, and send summaries without reading outputs."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.consumers import summary_message
from playground.models import Comparison
from tests.factories import PlaygroundWorker, member_client, open_socket
from workflows.engine.results import append_step_run_line, record_step_failed, record_step_started

pytestmark = pytest.mark.django_db

STRICT = {"overrides": {"review": {"strict": True}}}


def compare(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/playground/compare", {"workflow": "Support", **body}, format="json")


def contains_strict(api: APIClient) -> str:
    """A check that the strict column passes and the baseline fails."""
    response = api.post(
        "/api/v1/playground/evaluators",
        {"workflow": "Support", "name": "strict", "kind": "contains", "config": {"text": "strict"}},
        format="json",
    )
    return str(response.json()["id"])


def fail_classify(worker: PlaygroundWorker, tenant: Tenant, failing: Any) -> None:
    """Run the queued classify steps: those of runs `failing` says so of fail for good,
    the others succeed."""
    for assignment in worker.claim("classify"):
        if not failing(str(assignment.workflow_run_id)):
            worker.complete(assignment, {"step": "classify", "used": assignment.overrides})
            continue
        ref = (tenant.id, assignment.step_run_id, assignment.attempt, worker.id)
        assert record_step_started(*ref)
        record_step_failed(*ref, "KeyError: 'question'", "Traceback", retryable=False)


def places(matrix: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c["row"], c["column"], c["repeat"], c["attempt"], c["is_latest"], c["status"])
        for c in matrix["cells"]
    ]


@pytest.mark.usefixtures("source")
def test_each_cell_repeats_and_every_repeat_counts_in_the_summary(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    contains_strict(api)

    response = compare(
        api, columns=[{"baseline": True}, STRICT], rows=[{"input": {"ticket": "Hi"}}], repeat=3
    )

    assert response.status_code == 201, response.content
    matrix = response.json()
    assert matrix["repeat"] == 3
    assert places(matrix) == [
        (0, column, repeat, 0, True, "PENDING") for column in (0, 1) for repeat in (0, 1, 2)
    ]
    worker = PlaygroundWorker(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        worker.run_step("classify")
        worker.run_step("draft")
        # One of the baseline's repeats says "strict" where the others do not: its
        # repeats disagree.
        reviews = sorted(worker.claim("review"), key=lambda a: a.overrides != {})
        worker.complete(reviews[0], {"reply": "strict enough"})
        for assignment in reviews[1:]:
            worker.complete(assignment, {"step": "review", "used": assignment.overrides})

    done = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()
    baseline, strict = done["summary"]
    assert (baseline["runs"], strict["runs"]) == (3, 3)
    assert [
        (e["scored"], e["passed"]) for e in (baseline["evaluators"][0], strict["evaluators"][0])
    ] == [
        (3, 1),
        (3, 3),
    ]
    assert baseline["evaluators"][0]["mean_score"] == pytest.approx(1 / 3)
    # The row's mean over its repeats (1) beats the baseline's (1/3): one row improved.
    assert (strict["improved"], strict["regressed"], strict["unchanged"]) == (1, 0, 0)
    listed = api.get("/api/v1/playground/compare").json()
    assert [c["repeat"] for c in listed["results"]] == [3]


@pytest.mark.usefixtures("source")
@pytest.mark.parametrize(
    ("repeat", "message"),
    [
        (0, "repeat: Ensure this value is greater than or equal to 1."),
        (11, "repeat: Ensure this value is less than or equal to 10."),
    ],
)
def test_a_repeat_out_of_bounds_is_refused(api: APIClient, repeat: int, message: str) -> None:
    response = compare(api, columns=[{"baseline": True}], rows=[{"input": {}}], repeat=repeat)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert not Comparison.objects.exists()


@pytest.mark.usefixtures("source")
def test_the_cell_cap_counts_every_repeat(api: APIClient, settings: Any) -> None:
    settings.HATCHET_MAX_COMPARISON_CELLS = 10

    response = compare(
        api, columns=[{"baseline": True}, STRICT], rows=[{"input": {}}, {"input": {}}], repeat=3
    )

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "invalid_request",
                "message": "2 rows x 2 columns x 3 repeats is 12 runs; a comparison has at "
                "most 10.",
                "details": {"cells": 12, "max": 10},
            }
        },
    )
    assert not Comparison.objects.exists()


@pytest.mark.usefixtures("source")
def test_failed_cells_run_again_beside_their_earlier_attempts(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    api.post(
        "/api/v1/playground/evaluators",
        {"workflow": "Support", "name": "review", "kind": "contains", "config": {"text": "review"}},
        format="json",
    )
    matrix = compare(
        api, columns=[{"baseline": True}], rows=[{"input": {"ticket": "a"}}, {"input": {}}]
    ).json()
    rerun = f"/api/v1/playground/compare/{matrix['id']}/rerun-failed"

    running = api.post(rerun)

    assert (running.status_code, running.json()["error"]) == (
        409,
        {
            "code": "conflict",
            "message": "The comparison is still running (2 of 2 cells); re-run its failed "
            "cells once it has finished.",
            "details": {"running": 2},
        },
    )
    worker = PlaygroundWorker(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        fail_classify(worker, tenant, lambda run_id: run_id == matrix["cells"][1]["run_id"])
        worker.run_all()
    failed = next(
        c
        for c in api.get(f"/api/v1/playground/compare/{matrix['id']}").json()["cells"]
        if c["status"] == "FAILED"
    )
    viewer = member_client(tenant, "viewer", username="vi")
    assert viewer.post(rerun).status_code == 403

    response = api.post(rerun)

    assert response.status_code == 201, response.content
    again = response.json()
    row = failed["row"]
    assert [p for p in places(again) if p[0] == row] == [
        (row, 0, 0, 0, False, "FAILED"),
        (row, 0, 0, 1, True, "PENDING"),
    ]
    assert again["summary"][0]["runs"] == 2
    assert again["is_finished"] is False
    with django_capture_on_commit_callbacks(execute=True):
        worker.run_all()
    finished = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()
    [summary] = finished["summary"]
    # The summary counts the latest attempts only: the failure no longer counts.
    assert (summary["runs"], summary["evaluators"][0]["passed"]) == (2, 2)
    nothing = api.post(rerun)
    assert (nothing.status_code, nothing.json()["error"]) == (
        409,
        {
            "code": "nothing_to_rerun",
            "message": "No cell failed: every run succeeded and every evaluator gave a verdict.",
            "details": {"cells": 2},
        },
    )


@pytest.mark.usefixtures("source")
def test_a_cell_an_evaluator_could_not_judge_runs_again(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # No row has an expected output: the check gives no verdict.
    api.post(
        "/api/v1/playground/evaluators",
        {"workflow": "Support", "name": "expected", "kind": "equals_expected", "config": {}},
        format="json",
    )
    matrix = compare(api, columns=[{"baseline": True}], rows=[{"input": {}}]).json()
    with django_capture_on_commit_callbacks(execute=True):
        PlaygroundWorker(tenant).run_all()

    response = api.post(f"/api/v1/playground/compare/{matrix['id']}/rerun-failed")

    assert response.status_code == 201, response.content
    assert places(response.json()) == [
        (0, 0, 0, 0, False, "SUCCEEDED"),
        (0, 0, 0, 1, True, "PENDING"),
    ]


@pytest.mark.usefixtures("source")
def test_the_socket_summary_reads_no_outputs_nor_streams(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    contains_strict(api)

    def queries_of_summary(rows: int) -> list[str]:
        matrix = compare(
            api, columns=[{"baseline": True}, STRICT], rows=[{"input": {}}] * rows
        ).json()
        with django_capture_on_commit_callbacks(execute=True):
            for step in PlaygroundWorker(tenant).run_step("classify"):
                append_step_run_line(tenant.id, step.id, step.attempt, "stream", 0, "chunk")
            PlaygroundWorker(tenant).run_all()
        comparison = Comparison.objects.get(pk=matrix["id"])
        with CaptureQueriesContext(connection) as captured:
            message = summary_message(comparison)
        assert [s["runs"] for s in message["summary"]] == [rows, rows]
        return [query["sql"] for query in captured.captured_queries]

    small, large = queries_of_summary(1), queries_of_summary(3)

    assert not [sql for sql in small + large if "steprunline" in sql.lower()]
    assert not [sql for sql in small + large if '"output"' in sql]
    assert len(small) == len(large)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("source")
def test_the_socket_sums_up_against_the_viewers_baseline_and_watches_new_attempts(
    api: APIClient, tenant: Tenant
) -> None:
    contains_strict(api)
    matrix = compare(api, columns=[{"baseline": True}, STRICT], rows=[{"input": {}}]).json()
    worker = PlaygroundWorker(tenant)
    baseline_run = next(c["run_id"] for c in matrix["cells"] if c["column"] == 0)
    # The baseline's cell fails, the strict one passes.
    fail_classify(worker, tenant, lambda run_id: run_id == baseline_run)
    worker.run_step("draft")
    worker.run_step("review")
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/playground/compare/{matrix['id']}")

        async def receive_until(kind: str) -> dict[str, Any]:
            while True:
                message = await socket.receive_json_from(timeout=5)
                received.append(message)
                if message["type"] == kind:
                    return dict(message)

        await receive_until("comparison.snapshot")
        await socket.send_to(text_data="not json")
        assert (await receive_until("error"))["message"] == "Send a JSON object."
        await socket.send_to(text_data=" " * 201)
        assert (await receive_until("error"))["message"] == (
            "A message to this socket has at most 200 characters."
        )
        await socket.send_json_to({"type": "comparison.baseline", "baseline": "1"})
        assert (await receive_until("error"))["message"] == (
            "baseline must be a column number (0 or more)."
        )
        await socket.send_json_to({"type": "comparison.baseline", "baseline": 2})
        assert (await receive_until("error"))["message"] == (
            "baseline is column 2, but the columns are 0 to 1."
        )
        await socket.send_json_to({"type": "comparison.baseline", "baseline": 1})
        against_strict = await receive_until("comparison.summary")
        assert against_strict["baseline"] == 1
        assert [s["regressed"] for s in against_strict["summary"]] == [1, 0]
        response = await database_sync_to_async(api.post)(
            f"/api/v1/playground/compare/{matrix['id']}/rerun-failed"
        )
        assert response.status_code == 201
        added = await receive_until("cell")
        assert (added["cell"]["column"], added["cell"]["attempt"]) == (0, 1)
        for step in ("classify", "draft", "review"):
            await database_sync_to_async(worker.run_step)(step)
        # Scored, the new attempt's summary is still held against the viewer's column.
        while True:
            summary = await receive_until("comparison.summary")
            if summary["summary"][0]["evaluators"][0]["scored"] == 1 and any(
                m["type"] == "comparison.finished" for m in received
            ):
                break
        assert summary["baseline"] == 1
        assert [s["regressed"] for s in summary["summary"]] == [1, 0]
        await socket.disconnect()

    async_to_sync(watch)()
