"""The regression gate outside the browser, with a live server and a real worker:
`manage.py playground evaluate` exits 0 for a variant that holds up, 1 for one that
regresses, 2 for bad arguments; the same verdict over REST."""

import subprocess
import sys
from typing import Any

import httpx
import pytest

from bench.livestack import ROOT
from tests.e2e.live import LiveServer, WorkerFactory, wait_for
from tests.e2e.test_playground import WORKFLOW, created, run_once, variant

pytestmark = pytest.mark.e2e


def evaluate(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "playground", "evaluate", "--tenant", "e2e", *args],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def prepare(server: LiveServer, start_worker: WorkerFactory, suffix: str) -> dict[str, str]:
    """A worker, a run with the defaults in code, a dataset of two topics, a check that
    the defaults pass (their words are 'plain'), a variant that keeps them and one that
    does not."""
    start_worker(f"gate-{suffix}")
    run_once(server, {"topic": "refunds"})
    with server.api() as api:
        return prepare_over(api, suffix)


def prepare_over(api: httpx.Client, suffix: str) -> dict[str, str]:
    dataset = created(
        api.post("/playground/datasets", json={"workflow": WORKFLOW, "name": f"topics-{suffix}"})
    )
    created(
        api.post(
            f"/playground/datasets/{dataset['id']}/rows",
            json={"rows": [{"input": {"topic": "tax"}}, {"input": {"topic": "fees"}}]},
        )
    )
    if not api.get("/playground/evaluators", params={"workflow": WORKFLOW}).json()["results"]:
        created(
            api.post(
                "/playground/evaluators",
                json={
                    "workflow": WORKFLOW,
                    "name": "plain words",
                    "kind": "contains",
                    "config": {"text": "plain"},
                },
            )
        )
    return {
        "dataset": dataset["name"],
        "longer": variant(api, f"longer-{suffix}", {"draft": {"words": 4}}),
        "calm": variant(api, f"calm-{suffix}", {"draft": {"tone": "calm"}}),
    }


def test_the_gate_passes_a_variant_that_holds_up_and_fails_one_that_regresses(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    made = prepare(hatchet_server, start_worker, "cli")
    common = ("--workflow", WORKFLOW, "--dataset", made["dataset"], "--timeout", "60")

    holds = evaluate(hatchet_server, *common, "--variant", "longer-cli")
    regresses = evaluate(hatchet_server, *common, "--variant", "calm-cli")
    under = evaluate(
        hatchet_server, *common, "--variant", "longer-cli", "--fail-under", "plain words=1.01"
    )
    unknown = evaluate(hatchet_server, *common, "--variant", "nonesuch")

    assert holds.returncode == 0, holds.stderr
    assert holds.stdout.splitlines()[0].startswith(
        "[baseline] baseline: plain words 1.00 pass / 1.00 mean; latency "
    )
    assert holds.stdout.splitlines()[1].startswith(
        "[variant] longer-cli r1: plain words 1.00 pass / 1.00 mean; latency "
    )
    assert holds.stdout.splitlines()[1].endswith(
        " 12 tokens; cost -; 0 improved, 0 regressed, 2 unchanged"
    )
    assert holds.stderr.splitlines()[-1] == "No regression."
    assert regresses.returncode == 1, regresses.stderr
    assert regresses.stdout.splitlines()[1].startswith(
        "[variant] calm-cli r1: plain words 0.00 pass / 0.00 mean; latency "
    )
    assert regresses.stdout.splitlines()[2:] == [
        "regressed: topics-cli #1 (1.00 -> 0.00)",
        "regressed: topics-cli #2 (1.00 -> 0.00)",
    ]
    assert regresses.stderr.splitlines()[-1] == (
        "CommandError: The variant regressed: plain words pass rate fell from 1.000 to 0.000 "
        "(by 1.000; at most 0 is allowed)."
    )
    assert (under.returncode, under.stderr.splitlines()[-1]) == (
        2,
        "CommandError: 'plain words=1.01': a pass rate or mean score bound is from 0 to 1.",
    )
    assert (unknown.returncode, unknown.stderr.splitlines()[-1]) == (
        2,
        f"CommandError: {WORKFLOW} has no variant 'nonesuch'.",
    )


def test_the_gate_over_rest_answers_its_verdict_once_every_cell_is_scored(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    made = prepare(hatchet_server, start_worker, "rest")
    with hatchet_server.api() as api:
        started = created(
            api.post(
                "/playground/evaluations",
                json={
                    "workflow": WORKFLOW,
                    "dataset": made["dataset"],
                    "variant": made["longer"],
                    "rules": [{"evaluator": "plain words", "metric": "mean_score", "at_least": 1}],
                },
            )
        )
        verdict: dict[str, Any] = wait_for(
            lambda: (
                (v := api.get(f"/playground/evaluations/{started['id']}").json())["is_finished"]
                and v
            )
        )
        bad = api.post(
            "/playground/evaluations",
            json={
                "workflow": WORKFLOW,
                "dataset": made["dataset"],
                "variant": "calm-rest",
                "rules": [{"evaluator": "plain words", "metric": "pass_rate"}],
            },
        )

    assert (started["is_finished"], started["column"], started["baseline"]) == (False, 1, 0)
    assert (verdict["regressed"], verdict["reasons"], verdict["regressed_rows"]) == (False, [], [])
    assert verdict["rules"] == [
        {"evaluator": "plain words", "metric": "mean_score", "max_drop": None, "at_least": 1.0}
    ]
    assert [(c["title"], c["evaluators"][0]["pass_rate"]) for c in verdict["columns"]] == [
        ("baseline", 1.0),
        ("longer-rest r1", 1.0),
    ]
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == {
        "rules": {"0": {"non_field_errors": ["Set max_drop, at_least or both."]}}
    }
