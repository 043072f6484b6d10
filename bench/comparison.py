"""`python -m bench.comparison`: how a large playground comparison runs on a live stack.

One comparison of `--rows` custom inputs x `--columns` prompts (the baseline and
variants of BenchPrompt's prompt, bench/workflows.py) is started through the REST API,
as the dashboard starts one, while `--workers` SDK workers serve the cells; `--runs`
comparisons in a row, and the table gives the median of each figure:

- start: the POST's answer time, in which every cell's run is created and queued;
- first / last cell: from the POST to the first and the last cell's run finishing,
  read from the runs' own `finished_at`;
- last score: from the POST to the last cell scored by BenchPrompt's two built-in
  evaluators (contains, length), which score each cell as its run finishes;
- scoring delay: from a cell's run finishing to its scores being stored (median and
  p95 over the cells' scores);
- matrix: what the dashboard loads to show it, `GET /playground/compare/{id}` once
  every cell is scored (median of 5 calls), and its size.

With `--judge`, a third evaluator is an LLM judge, asked through the real `openai`
client of a loopback Chat Completions server (tests/openai_server.py: it answers at
once and counts words as tokens), in a Celery worker as production runs judges (on
`embedded`, Celery is eager: in the server's own threads). The table adds what the
judge costs per cell: tokens, USD at the default price of its model, and the time from
the POST to the last judgement; the judge's own latency is the loopback's, so these
figures are our overhead and the token bill, not a model's speed.

With `--browser`, a signed-in editor's Chromium opens each comparison's page as soon
as the comparison is started and the table adds how the page kept up (bench/browser.py:
when it showed every run finished, the main thread's blocking time, a row filter's
time on the finished grid). It needs the built dashboard (`make frontend`).

Usage: python -m bench.comparison [--backend services|embedded] [--rows 50] [--columns 4]
       [--judge] [--browser]
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL
from bench.browser import ComparisonWatcher
from bench.processes import ROOT, Processes, wait_until
from bench.stack import HatchetStack
from bench.workflows import PROMPT
from tests.openai_server import LoopbackOpenAI

logger = logging.getLogger("bench")
CELLS_TIMEOUT = 300.0
MATRIX_READS = 5


def comparison_body(rows: int, columns: int) -> dict[str, Any]:
    variants = [
        {"overrides": {"answer": {"prompt": f"Variant {index}: answer in {index} words."}}}
        for index in range(1, columns)
    ]
    return {
        "workflow": PROMPT,
        "columns": [{"baseline": True}, *variants],
        "rows": [
            {"input": {"ticket": f"Ticket {index}: where is my order?"}} for index in range(rows)
        ],
    }


def api(stack: HatchetStack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(
        method,
        f"{stack.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=60,
        **kwargs,
    )
    response.raise_for_status()
    return response


def as_epoch(value: Any) -> float:
    """A timestamp as the database returns it (a datetime, or SQLite's text)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.timestamp()


def comparison_rows(stack: HatchetStack, query: str, comparison_id: str) -> list[Any]:
    """The rows of a query about one comparison (SQLite stores a UUID as 32 hex digits)."""
    key = comparison_id if stack.db.is_postgres else comparison_id.replace("-", "")
    return stack.db.rows(query, (key,))


def cell_finish_times(stack: HatchetStack, comparison_id: str) -> list[Any]:
    rows = comparison_rows(
        stack,
        "SELECT r.finished_at FROM playground_playgroundrun p "
        "JOIN workflows_workflowrun r ON r.id = p.run_id WHERE p.comparison_id = %s",
        comparison_id,
    )
    return [finished for (finished,) in rows]


EVALUATORS = [
    {"name": "answers the ticket", "kind": "contains", "config": {"text": "Re:"}},
    {"name": "short", "kind": "length", "config": {"max": 200}},
]
JUDGE = {
    "name": "judged",
    "kind": "llm_judge",
    "config": {"rubric": "The reply answers the customer's ticket.", "model": "gpt-4o-mini"},
}


def attach_evaluators(stack: HatchetStack, evaluators: list[dict[str, Any]]) -> None:
    for evaluator in evaluators:
        api(stack, "POST", "/playground/evaluators", json={"workflow": PROMPT, **evaluator})


def judge_scores(stack: HatchetStack, comparison_id: str) -> list[tuple[Any, Any, Any, Any]]:
    """(scored at, tokens, cost, latency_ms) of each judgement the comparison's cells got."""
    return comparison_rows(
        stack,
        "SELECT s.updated_at, s.tokens, s.cost, s.latency_ms FROM playground_score s "
        "JOIN playground_evaluator e ON e.id = s.evaluator_id "
        "JOIN playground_playgroundrun p ON p.run_id = s.cell_id "
        "WHERE p.comparison_id = %s AND s.status = 'done' AND e.kind = 'llm_judge'",
        comparison_id,
    )


def judge_figures(stack: HatchetStack, comparison_id: str, sent: float) -> dict[str, float]:
    judged = judge_scores(stack, comparison_id)
    return {
        "judge_tokens_per_cell": statistics.mean(int(tokens or 0) for _, tokens, _, _ in judged),
        "judge_usd_per_cell": statistics.mean(float(cost or 0) for _, _, cost, _ in judged),
        "judge_latency_p50_ms": statistics.median(float(ms or 0) for _, _, _, ms in judged),
        "last_judgement_s": max(as_epoch(at) for at, _, _, _ in judged) - sent,
    }


def score_times(stack: HatchetStack, comparison_id: str) -> list[tuple[Any, Any]]:
    """(scored at, the cell's run finished at) of each stored score of the comparison."""
    return comparison_rows(
        stack,
        "SELECT s.updated_at, r.finished_at FROM playground_score s "
        "JOIN playground_playgroundrun p ON p.run_id = s.cell_id "
        "JOIN workflows_workflowrun r ON r.id = p.run_id "
        "WHERE p.comparison_id = %s AND s.status = 'done'",
        comparison_id,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_comparison(
    stack: HatchetStack,
    rows: int,
    columns: int,
    evaluators: list[dict[str, Any]],
    watcher: ComparisonWatcher | None = None,
) -> dict[str, float]:
    body = comparison_body(rows, columns)
    sent = time.time()
    matrix = api(stack, "POST", "/playground/compare", json=body).json()
    answered = time.time()
    comparison_id = matrix["id"]
    cells = rows * columns
    watched = {} if watcher is None else watcher.watch(comparison_id, sent)

    def all_finished() -> bool:
        finished = cell_finish_times(stack, comparison_id)
        return len(finished) == cells and all(value is not None for value in finished)

    wait_until(
        all_finished, CELLS_TIMEOUT, f"the {cells} cells of comparison {comparison_id}", 0.25
    )
    finished = sorted(as_epoch(value) for value in cell_finish_times(stack, comparison_id))
    scores = cells * len(evaluators)
    wait_until(
        lambda: len(score_times(stack, comparison_id)) == scores,
        CELLS_TIMEOUT,
        f"the {scores} scores of comparison {comparison_id}",
        0.25,
    )
    scored = [
        (as_epoch(at), as_epoch(run_end)) for at, run_end in score_times(stack, comparison_id)
    ]
    delays = [(at - run_end) * 1000 for at, run_end in scored]
    reads = []
    size = 0
    for _ in range(MATRIX_READS):
        began = time.perf_counter()
        size = len(api(stack, "GET", f"/playground/compare/{comparison_id}").content)
        reads.append((time.perf_counter() - began) * 1000)
    judged = judge_figures(stack, comparison_id, sent) if JUDGE in evaluators else {}
    return {
        **judged,
        **watched,
        "start_ms": (answered - sent) * 1000,
        "first_cell_s": finished[0] - sent,
        "last_cell_s": finished[-1] - sent,
        "last_score_s": max(at for at, _ in scored) - sent,
        "scoring_delay_p50_ms": statistics.median(delays),
        "scoring_delay_p95_ms": percentile(delays, 0.95),
        "matrix_read_ms": statistics.median(reads),
        "matrix_kib": size / 1024,
    }


def register_prompt(stack: HatchetStack) -> None:
    """One run of BenchPrompt, so that the catalog knows its prompt and takes overrides."""
    run = api(stack, "POST", f"/workflows/{PROMPT}/runs", json={"input": {"ticket": "warm-up"}})
    run_id = run.json()["id"]

    def variables_known() -> bool:
        variables = api(stack, "GET", "/playground/variables", params={"workflow": PROMPT})
        return bool(variables.json()["results"])

    wait_until(
        lambda: api(stack, "GET", f"/runs/{run_id}").json()["status"] == "SUCCEEDED",
        30,
        "the warm-up run",
    )
    wait_until(variables_known, 30, "BenchPrompt's variables")


FIGURES = [
    ("start_ms", "start: POST answered (ms)"),
    ("first_cell_s", "first cell finished (s)"),
    ("last_cell_s", "last cell finished (s)"),
    ("last_score_s", "last cell scored (s)"),
    ("scoring_delay_p50_ms", "run finished -> scored, p50 (ms)"),
    ("scoring_delay_p95_ms", "run finished -> scored, p95 (ms)"),
    ("matrix_read_ms", "GET the finished matrix (ms)"),
    ("matrix_kib", "finished matrix size (KiB)"),
]
JUDGE_FIGURES = [
    ("last_judgement_s", "last cell judged (s)"),
    ("judge_latency_p50_ms", "judge's answer, p50 (ms)"),
    ("judge_tokens_per_cell", "judge tokens per cell"),
    ("judge_usd_per_cell", "judge USD per cell"),
]


BROWSER_FIGURES = [
    ("browser_all_shown_s", "browser: all runs shown finished (s)"),
    ("browser_blocking_ms", "browser: total blocking time (ms)"),
    ("browser_longest_task_ms", "browser: longest task (ms)"),
    ("browser_filter_ms", "browser: row filter on the finished grid (ms)"),
]
JUDGE_WARM_UP_ROWS = 6


def start_celery_worker(stack: HatchetStack, processes: Processes) -> None:
    """The judges' Celery worker, on the stack's settings (Redis, the bench database)."""
    processes.start(
        [
            *(sys.executable, "-m", "celery", "-A", "hatchet.celery", "worker"),
            *("--concurrency", "2", "--without-mingle", "--without-gossip"),
            *("--loglevel", "WARNING"),
        ],
        stack.env,
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.comparison", description=__doc__)
    parser.add_argument("--backend", choices=["services", "embedded"], default="services")
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--judge", action="store_true", help="add an LLM judge (see above)")
    parser.add_argument("--browser", action="store_true", help="watch in Chromium (see above)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL,
        help="a fresh database is made beside this one",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "bench" / "results" / "comparison.json"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log_path = Path(tempfile.gettempdir()) / f"hatchet-bench-comparison-{os.getpid()}.log"
    results: list[dict[str, float]] = []
    evaluators = [*EVALUATORS, JUDGE] if args.judge else EVALUATORS
    figures = [
        *FIGURES,
        *(JUDGE_FIGURES if args.judge else []),
        *(BROWSER_FIGURES if args.browser else []),
    ]
    watcher: ComparisonWatcher | None = None
    openai_server = LoopbackOpenAI().start() if args.judge else None
    with Processes(log_path) as processes:
        stack = HatchetStack(args.backend, processes, args.postgres_url, args.redis_url, 1)
        if openai_server is not None:
            stack.env.update(
                OPENAI_BASE_URL=openai_server.url, OPENAI_API_KEY=openai_server.api_key
            )
        try:
            stack.start()
            if args.judge and args.backend == "services":
                start_celery_worker(stack, processes)
            for _ in range(args.workers):
                stack.start_worker(args.slots)
            register_prompt(stack)
            attach_evaluators(stack, evaluators)
            if args.judge:
                # Not measured: the start of the Celery worker's processes and of their
                # judge clients (a few cells, so that each process takes one).
                run_comparison(stack, JUDGE_WARM_UP_ROWS, 1, evaluators)
            if args.browser:
                watcher = ComparisonWatcher(stack)
            for run in range(args.runs):
                logger.info("comparison %d of %d", run + 1, args.runs)
                results.append(run_comparison(stack, args.rows, args.columns, evaluators, watcher))
        finally:
            if watcher is not None:
                watcher.close()
            stack.stop()
            if openai_server is not None:
                openai_server.stop()
    medians = {key: statistics.median(r[key] for r in results) for key, _ in figures}
    print(
        f"\n== {args.backend}: {args.rows} rows x {args.columns} columns = "
        f"{args.rows * args.columns} cells, {args.workers} workers x {args.slots} slots, "
        f"median of {args.runs} =="
    )
    width = max(len(label) for _, label in figures)
    for key, label in figures:
        print(f"{label.ljust(width)}  {medians[key]:10.{6 if key == 'judge_usd_per_cell' else 2}f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "settings": vars(args) | {"output": str(args.output)},
                "runs": results,
                "medians": medians,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
