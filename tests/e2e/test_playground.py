"""The playground with a live server and a real worker: runs with overrides, a replay
from the second step, and a 3 x 4 comparison watched over its websocket."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.e2e.live import LiveServer, WorkerFactory, step_run, wait_for, wait_for_status

pytestmark = pytest.mark.e2e

WORKFLOW = "PlaygroundChain"


def created(response: httpx.Response) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


def run_once(server: LiveServer, input: dict[str, Any]) -> dict[str, Any]:
    """A run with the defaults in code, finished, and its variables in the catalog."""
    with server.api() as api:
        run = created(api.post(f"/workflows/{WORKFLOW}/runs", json={"input": input}))
        done = wait_for_status(server, run["id"], "SUCCEEDED")
        wait_for(
            lambda: (
                len(
                    api.get("/playground/variables", params={"workflow": WORKFLOW}).json()[
                        "results"
                    ]
                )
                == 4
            )
        )
    return done


def variant(api: httpx.Client, name: str, overrides: dict[str, Any]) -> str:
    body = {"workflow": WORKFLOW, "name": name, "overrides": overrides}
    return str(created(api.post("/playground/variants", json=body))["id"])


def outline_markers(markers: Path) -> int:
    return len(list(markers.glob("outline-*")))


def test_a_run_with_a_variant_and_overrides_gets_them_from_context_playground(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("playground-runs")
    run_once(hatchet_server, {"topic": "refunds"})
    with hatchet_server.api() as api:
        warm = variant(api, "warm-run", {"draft": {"tone": "warm", "words": 2}})
        record = created(
            api.post(
                "/playground/runs",
                json={
                    "workflow": WORKFLOW,
                    "input": {"topic": "refunds"},
                    "variant": warm,
                    "overrides": {"polish": {"shout": True}},
                },
            )
        )
        run = wait_for_status(hatchet_server, record["run_id"], "SUCCEEDED")
        detail = api.get(f"/playground/runs/{record['run_id']}").json()

    assert (detail["variant"], detail["variant_name"], detail["variant_revision"]) == (
        warm,
        "warm-run",
        1,
    )
    assert detail["overrides"] == {"polish": {"shout": True}}
    assert run["overrides"] == {"draft": {"tone": "warm", "words": 2}, "polish": {"shout": True}}
    assert step_run(run, "polish")["output"] == {"final": "TOPIC: REFUNDS | WARM0 WARM1"}
    values = {r["name"]: r["value"] for r in step_run(run, "draft")["playground"]}
    assert values == {"tone": "warm", "words": 2}
    [shout] = step_run(run, "polish")["playground"]
    assert (shout["default"], shout["value"], shout["type"]) == (False, True, "boolean")
    assert shout["call_site"]["path"] == "tests/e2e/worker_app.py"
    assert shout["call_site"]["function"] == "polish"


def test_a_replay_from_the_second_step_does_not_run_the_first_again(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    start_worker("playground-replay")
    source = run_once(hatchet_server, {"topic": "billing", "markers": str(markers)})
    assert outline_markers(markers) == 1

    with hatchet_server.api() as api:
        record = created(
            api.post(
                "/playground/runs/replay",
                json={
                    "source_run": source["id"],
                    "from_step": "draft",
                    "overrides": {"draft": {"tone": "brisk"}},
                },
            )
        )
        replayed = wait_for_status(hatchet_server, record["run_id"], "SUCCEEDED")
        detail = api.get(f"/playground/runs/{record['run_id']}").json()
        stream = api.get(f"/step-runs/{step_run(replayed, 'draft')['id']}/stream").json()

    assert outline_markers(markers) == 1
    assert step_run(replayed, "outline")["output"] == step_run(source, "outline")["output"]
    assert step_run(replayed, "outline")["attempts"] == []
    assert detail["source_run"] == source["id"]
    diff = {d["step"]: d for d in detail["diff"]}
    assert (diff["outline"]["reused"], diff["outline"]["changed"]) == (True, False)
    assert diff["draft"]["source_output"] == {"text": "Topic: billing | plain0 plain1 plain2"}
    assert diff["draft"]["replay_output"] == {"text": "Topic: billing | brisk0 brisk1 brisk2"}
    assert diff["polish"]["changed"] is True
    assert stream["text"] == "brisk0 brisk1 brisk2 "


def comparison_socket(server: LiveServer, comparison_id: str) -> str:
    return server.url.replace("http", "ws") + f"/ws/playground/compare/{comparison_id}"


async def watch(server: LiveServer, comparison_id: str) -> list[dict[str, Any]]:
    received = []
    async with websockets.connect(
        comparison_socket(server, comparison_id),
        additional_headers={"Authorization": f"Bearer {server.token}"},
    ) as socket:
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
            received.append(message)
            if message["type"] == "comparison.finished" or (
                message["type"] == "comparison.snapshot" and message["comparison"]["is_finished"]
            ):
                return received


def test_three_variants_over_four_inputs_fill_a_live_matrix(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("playground-compare", 4)
    past = [run_once(hatchet_server, {"topic": topic})["id"] for topic in ("tax", "login")]
    with hatchet_server.api() as api:
        tones = ["calm", "bold", "dry"]
        columns = [
            {"variant": variant(api, f"{tone}-cmp", {"draft": {"tone": tone}})} for tone in tones
        ]
        rows = [{"run": run_id} for run_id in past] + [
            {"input": {"topic": topic, "pause": 0.1}} for topic in ("fees", "spam")
        ]
        matrix = created(
            api.post(
                "/playground/compare", json={"workflow": WORKFLOW, "columns": columns, "rows": rows}
            )
        )
        messages = asyncio.run(watch(hatchet_server, matrix["id"]))
        final = api.get(f"/playground/compare/{matrix['id']}").json()

    assert len(matrix["cells"]) == 12
    assert messages[0]["type"] == "comparison.snapshot"
    assert len(messages[0]["comparison"]["cells"]) == 12
    streamed = [m for m in messages if m["type"] == "cell.stream"]
    assert streamed, "no stream chunk arrived while the comparison ran"
    assert all(m["text"].startswith(tones[m["column"]]) for m in streamed)
    done_at_first = {c["run_id"] for c in messages[0]["comparison"]["cells"] if c["is_finished"]}
    done_live = {
        m["cell"]["run_id"] for m in messages if m["type"] == "cell" and m["cell"]["is_finished"]
    }
    assert done_at_first | done_live == {c["run_id"] for c in matrix["cells"]}
    assert messages[-1]["type"] == "comparison.finished"

    assert final["is_finished"] is True
    cells = {(c["row"], c["column"]): c for c in final["cells"]}
    assert len(cells) == 12
    for (row, column), cell in cells.items():
        topic = ["tax", "login", "fees", "spam"][row]
        tone = tones[column]
        assert cell["status"] == "SUCCEEDED"
        assert cell["output"] == {"final": f"Topic: {topic} | {tone}0 {tone}1 {tone}2"}
        assert cell["stream"] == f"{tone}0 {tone}1 {tone}2 "
        assert cell["usage"] == {
            "prompt_tokens": 2,
            "completion_tokens": 3,
            "total_tokens": 5,
            "model": "e2e-llm",
        }
        assert cell["duration_ms"] > 0
