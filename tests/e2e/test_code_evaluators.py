"""Code evaluators with a live server and a real SDK worker (tests/e2e/worker_app.py):
the worker declares them, a comparison's cells get their scores from runs on the
worker, a raising evaluator and a score out of range are errors that say why, and an
evaluator no worker serves keeps its scores pending with the reason."""

from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, WorkerFactory, wait_for

pytestmark = pytest.mark.e2e

WORKFLOW = "Graded"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def evaluators_of(api: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = ok(api.get("/playground/evaluators", params={"workflow": WORKFLOW}))
    return {e["name"]: e for e in listed["results"]}


def unserved_definition() -> dict[str, Any]:
    """An evaluator declared as a worker would, that no worker serves."""
    return {
        "name": f"{WORKFLOW}.evaluate.unserved",
        "steps": [{"name": "evaluate"}],
        "evaluator": {
            "name": "unserved",
            "workflow": WORKFLOW,
            "step": "",
            "function": "graders.unserved",
            "worker": "nobody",
        },
    }


def finished_scores(api: httpx.Client, comparison_id: str) -> dict[tuple[int, str], Any]:
    """Each (row, evaluator name)'s score once none but `unserved` is pending."""
    comparison = ok(api.get(f"/playground/compare/{comparison_id}"))
    scores = {
        (cell["row"], score["name"]): score
        for cell in comparison["cells"]
        for score in cell["scores"]
    }
    waiting = [key for key, s in scores.items() if s["status"] == "pending"]
    if len(scores) < 2 * 5 or any(name != "unserved" for _, name in waiting):
        return {}
    return scores


def test_a_comparisons_cells_are_scored_by_the_code_evaluators_of_the_users_worker(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("code-evaluators", 4)
    with hatchet_server.api() as api:
        ok(api.post("/workflows", json=unserved_definition()), 201)
        declared = evaluators_of(api)
        assert {name: (e["kind"], e["step"], e["config"]) for name, e in declared.items()} == {
            "crashes": (
                "code",
                "",
                {
                    "workflow": "Graded.evaluate.crashes",
                    "function": "tests.e2e.worker_app.crashes",
                    "worker": "code-evaluators",
                },
            ),
            "matches_expected": (
                "code",
                "answer",
                {
                    "workflow": "Graded.evaluate.matches_expected",
                    "function": "tests.e2e.worker_app.matches_expected",
                    "worker": "code-evaluators",
                },
            ),
            "mentions_topic": (
                "code",
                "",
                {
                    "workflow": "Graded.evaluate.mentions_topic",
                    "function": "tests.e2e.worker_app.mentions_topic",
                    "worker": "code-evaluators",
                },
            ),
            "overflows": (
                "code",
                "",
                {
                    "workflow": "Graded.evaluate.overflows",
                    "function": "tests.e2e.worker_app.overflows",
                    "worker": "code-evaluators",
                },
            ),
            "unserved": (
                "code",
                "",
                {
                    "workflow": "Graded.evaluate.unserved",
                    "function": "graders.unserved",
                    "worker": "nobody",
                },
            ),
        }
        chosen = [declared[name]["id"] for name in ("mentions_topic", "crashes", "overflows")]
        chosen += [declared["matches_expected"]["id"], declared["unserved"]["id"]]
        comparison = ok(
            api.post(
                "/playground/compare",
                json={
                    "workflow": WORKFLOW,
                    "columns": [{"baseline": True}],
                    "rows": [{"input": {"topic": "tax"}}, {"input": {"topic": "fees"}}],
                    "evaluators": chosen,
                },
            ),
            201,
        )
        scores = wait_for(lambda: finished_scores(api, comparison["id"]), timeout=60)

        def seen(row: int, name: str) -> tuple[Any, ...]:
            score = scores[(row, name)]
            return score["status"], score["value"], score["passed"], score["reason"], score["error"]

        assert seen(0, "mentions_topic") == ("done", 1.0, True, "mentions tax", "")
        assert seen(1, "mentions_topic") == ("done", 1.0, True, "mentions fees", "")
        assert seen(0, "matches_expected") == (
            "done",
            0.0,
            False,
            f"checked for {declared['matches_expected']['id']}",
            "",
        )
        assert seen(0, "crashes") == (
            "error",
            None,
            None,
            "",
            "The evaluator's run failed: Step 'evaluate' failed: RuntimeError: "
            "the grader is out of ink",
        )
        assert seen(1, "overflows") == (
            "error",
            None,
            None,
            "",
            "The evaluator's score 1.5 is not a number from 0 to 1.",
        )
        assert seen(0, "unserved") == (
            "pending",
            None,
            None,
            "waiting for its run on a worker with the action Graded.evaluate.unserved:evaluate",
            "",
        )
        # Each score names the run that gives it: a run on the worker, with its logs.
        run = ok(api.get(f"/runs/{scores[(0, 'mentions_topic')]['run']}"))
        assert (run["workflow"], run["status"]) == ("Graded.evaluate.mentions_topic", "SUCCEEDED")
        assert run["input"]["output"] == {"text": "plain words about tax"}
        unserved = ok(api.get(f"/runs/{scores[(0, 'unserved')]['run']}"))
        assert unserved["step_runs"][0]["status"] == "QUEUED"

        # The evaluators' runs are no cells, and the runs list leaves them out on request.
        final = ok(api.get(f"/playground/compare/{comparison['id']}"))
        assert len(final["cells"]) == 2
        summary = {s["name"]: s for s in final["summary"][0]["evaluators"]}
        assert (summary["mentions_topic"]["pass_rate"], summary["unserved"]["pending"]) == (1.0, 2)
        evaluator_runs = ok(api.get("/runs", params={"trigger": "evaluator", "limit": 100}))
        assert len(evaluator_runs["results"]) == 2 * 5
        others = ok(api.get("/runs", params={"exclude_trigger": "evaluator", "limit": 500}))
        assert not [r for r in others["results"] if ".evaluate." in r["workflow"]]

        # Trying one waits for its run; a rescore runs every evaluator again.
        tried = ok(
            api.post(
                f"/playground/evaluators/{declared['matches_expected']['id']}/try",
                json={"input": {"topic": "x"}, "output": {"text": "a"}, "expected": {"text": "a"}},
            )
        )
        assert (tried["status"], tried["value"], tried["passed"]) == ("done", 1.0, True)
        ok(api.post(f"/playground/compare/{comparison['id']}/rescore"))
        wait_for(
            lambda: (
                len(ok(api.get("/runs", params={"trigger": "evaluator"}))["results"])
                == 2 * 5 * 2 + 1
            )
        )
        rescored = wait_for(lambda: finished_scores(api, comparison["id"]), timeout=60)
        assert rescored[(0, "mentions_topic")]["run"] != scores[(0, "mentions_topic")]["run"]
        assert rescored[(0, "mentions_topic")]["value"] == 1.0
