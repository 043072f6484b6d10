"""Comparisons: variants (or the baseline) over past runs or custom inputs, as a matrix."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework.test import APIClient

from hatchet.models import APIToken, Tenant, TokenRole
from playground import consumers
from playground.models import Comparison
from tests.factories import (
    PlaygroundWorker,
    open_socket,
    register,
    register_support,
    socket_close_code,
)
from workflows.engine.results import append_step_run_line
from workflows.live import SETTLED_SECONDS
from workflows.models import StepRun, WorkflowRun

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


def test_a_comparison_over_a_dataset_runs_each_row_as_an_input_and_keeps_its_expected(
    api: APIClient, tenant: Tenant, source: WorkflowRun
) -> None:
    terse = variant(api, "terse", {"draft": {"system_prompt": "Be brief."}})
    dataset = api.post(
        "/api/v1/playground/datasets", {"workflow": "Support", "name": "real"}, format="json"
    ).json()
    api.post(
        f"/api/v1/playground/datasets/{dataset['id']}/rows",
        {"runs": [str(source.pk)], "expected_from_output": True},
        format="json",
    )

    matrix = compare(
        api, columns=[{"baseline": True}, {"variant": terse}], dataset=dataset["id"]
    ).json()
    PlaygroundWorker(tenant).run_all()

    done = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()
    assert (done["dataset"], done["dataset_version"]) == (dataset["id"], 1)
    [row] = done["rows"]
    assert (row["title"], row["source_run"], row["input"], row["expected"]) == (
        "real #1",
        str(source.pk),
        {"ticket": "Where is my refund?"},
        {"step": "review", "used": {}},
    )
    assert [(c["kind"], c["status"], c["output"]) for c in done["cells"]] == [
        ("run", "SUCCEEDED", {"step": "review", "used": {}}),
        ("run", "SUCCEEDED", {"step": "review", "used": {}}),
    ]
    assert [c["outputs"]["draft"]["used"] for c in done["cells"]] == [
        {},
        {"system_prompt": "Be brief."},
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
            {"columns": [{"baseline": True}] * 21, "rows": [{"input": {}}] * 10},
            "10 rows x 21 columns is 210 runs; a comparison has at most 200.",
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
@pytest.mark.usefixtures("source")
def test_bad_comparisons_are_refused_and_start_nothing(
    api: APIClient, body: dict[str, Any], message: str
) -> None:
    response = compare(api, **body)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert WorkflowRun.objects.count() == 1


@pytest.mark.usefixtures("source")
def test_a_variant_of_another_workflow_is_refused(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Other")
    other = api.post(
        "/api/v1/playground/variants", {"workflow": "Other", "name": "x"}, format="json"
    ).json()["id"]

    response = compare(api, columns=[{"variant": other}], rows=[{"input": {}}])

    assert response.json()["error"]["message"] == "Variant 'x' belongs to Other, not Support."


@pytest.mark.django_db(transaction=True)
def test_the_comparison_socket_refuses_strangers_and_unknown_comparisons(tenant: Tenant) -> None:
    _, secret = APIToken.issue(tenant, "socket", TokenRole.ADMIN)

    path = "/ws/playground/compare/00000000-0000-0000-0000-000000000000"
    auth = [(b"authorization", f"Bearer {secret}".encode())]
    assert async_to_sync(socket_close_code)(path, []) == 4401
    assert async_to_sync(socket_close_code)(path, auth) == 4404


@pytest.mark.django_db(transaction=True)
def test_a_viewer_joining_mid_stream_sees_each_chunk_of_a_cell_once(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_support(tenant)
    matrix = compare(api, columns=[{"baseline": True}], rows=[{"input": {"ticket": "Hi"}}]).json()
    [cell] = matrix["cells"]
    draft = StepRun.objects.get(workflow_run_id=cell["run_id"], step__name="draft")

    def stream(seq: int, text: str) -> None:
        append_step_run_line(tenant.id, draft.id, 1, "stream", seq, text)

    stream(0, "Thanks ")
    stream(1, "for ")
    read_matrix, read_cells = consumers.matrix_message, consumers.cell_messages

    def matrix_while_streaming(comparison: Comparison) -> dict[str, Any]:
        # Stored after the viewer joined the cells' groups, before the matrix is read.
        stream(2, "writing ")
        return read_matrix(comparison)

    def cells_while_streaming(comparison: Comparison, run_ids: list[str]) -> list[dict[str, Any]]:
        # Stored after classify's success was announced, before the cell is read again.
        stream(3, "in, ")
        return read_cells(comparison, run_ids)

    monkeypatch.setattr(consumers, "matrix_message", matrix_while_streaming)
    monkeypatch.setattr(consumers, "cell_messages", cells_while_streaming)
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/playground/compare/{matrix['id']}")
        received.append(await socket.receive_json_from(timeout=5))
        await database_sync_to_async(PlaygroundWorker(tenant).run_step)("classify")
        while received[-1]["type"] != "cell":
            received.append(await socket.receive_json_from(timeout=5))
        # Streamed once the cell went out: earlier, the cell's read could already hold it.
        await database_sync_to_async(stream)(4, "we are on it.")
        while received[-1].get("seq") != 4:
            received.append(await socket.receive_json_from(timeout=5))
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    async_to_sync(watch)()

    # What a viewer shows: the cell's stream from the matrix or the latest cell message,
    # and the chunks streamed after it; at every step, the start of the stored stream.
    [shown] = [c["stream"] for c in received[0]["comparison"]["cells"]]
    texts = [shown]
    for message in received[1:]:
        if message["type"] == "cell":
            shown = message["cell"]["stream"]
        elif message["type"] == "cell.stream":
            shown += message["text"]
        texts.append(shown)
    stored = "Thanks for writing in, we are on it."
    assert [text for text in texts if not stored.startswith(text)] == []
    assert shown == stored
    # The chunk stored while the cell was read goes out as a line or inside the cell,
    # whichever comes first (the dashboard keeps each seq once); no chunk goes out twice.
    streamed = [m["seq"] for m in received if m["type"] == "cell.stream"]
    assert len(streamed) == len(set(streamed))
    assert set(streamed) in ({4}, {3, 4})
    assert sum(1 for m in received if m["type"] == "cell") == 1
    [cell_read] = [m["cell"] for m in received if m["type"] == "cell"]
    assert [(c["step_run_id"], c["attempt"], c["seq"]) for c in cell_read["stream_chunks"]] == [
        (str(draft.id), 1, seq) for seq in range(4)
    ]


@pytest.mark.django_db(transaction=True)
def test_the_comparison_finishes_on_the_socket_only_after_every_cell_went_out_finished(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_support(tenant)
    rows = [{"input": {"ticket": "Hi"}}, {"input": {"ticket": "Hello"}}]
    matrix = compare(api, columns=[{"baseline": True}], rows=rows).json()
    worker = PlaygroundWorker(tenant)
    worker.run_step("classify")
    worker.run_step("draft")
    first, second = worker.claim("review")
    unfinished = [second]
    read_cells = consumers.cell_messages

    def cells_while_the_other_finishes(
        comparison: Comparison, run_ids: list[str]
    ) -> list[dict[str, Any]]:
        # The other run finishes while the first one's cell is read.
        if str(first.workflow_run_id) in run_ids and unfinished:
            worker.complete(unfinished.pop(), {"step": "review", "used": {}})
        return read_cells(comparison, run_ids)

    monkeypatch.setattr(consumers, "cell_messages", cells_while_the_other_finishes)
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/playground/compare/{matrix['id']}")
        received.append(await socket.receive_json_from(timeout=5))
        await database_sync_to_async(worker.complete)(first, {"step": "review", "used": {}})
        while received[-1]["type"] != "comparison.finished":
            received.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()

    async_to_sync(watch)()

    # A dashboard stops listening once the comparison is finished: by then it has
    # every cell as it finished, output and all.
    finished_cells = {
        m["cell"]["run_id"] for m in received if m["type"] == "cell" and m["cell"]["is_finished"]
    }
    assert finished_cells == {c["run_id"] for c in matrix["cells"]}


@pytest.mark.django_db(transaction=True)
def test_a_viewer_gets_a_cell_again_once_every_process_sees_its_marks(
    api: APIClient, tenant: Tenant
) -> None:
    """With Redis, a process sends the updates of the runs marked in its copy of the
    marks, which a new watcher's marks reach within a moment: a cell whose run changed
    unsent in that moment (here, unannounced) goes out again as it is; the unchanged
    cells do not."""
    if not settings.REDIS_URL:
        pytest.skip("one process, which knows its own sockets at once")
    register_support(tenant)
    rows = [{"input": {"ticket": "Hi"}}, {"input": {"ticket": "Hello"}}]
    matrix = compare(api, columns=[{"baseline": True}], rows=rows).json()
    changed, unchanged = (cell["run_id"] for cell in matrix["cells"])

    async def watch() -> list[dict[str, Any]]:
        socket = await open_socket(tenant, f"/ws/playground/compare/{matrix['id']}")
        received = [await socket.receive_json_from(timeout=5)]
        await database_sync_to_async(WorkflowRun.objects.filter(pk=changed).update)(
            status="CANCELLED"
        )
        received.append(await socket.receive_json_from(timeout=SETTLED_SECONDS + 2))
        while not await socket.receive_nothing(timeout=SETTLED_SECONDS + 0.5):
            received.append(await socket.receive_json_from(timeout=1))
        await socket.disconnect()
        return received

    first, *after = async_to_sync(watch)()

    assert [c["status"] for c in first["comparison"]["cells"]] == ["PENDING", "PENDING"]
    cells = [m["cell"] for m in after if m["type"] == "cell"]
    assert [(c["run_id"], c["status"]) for c in cells] == [(changed, "CANCELLED")]
    assert unchanged not in {m.get("run_id") for m in after}
