"""The benchmark harness still works end to end: a `--quick` run on this suite's backend.

No timing is asserted: the harness is a tool, and this only checks that every figure is
produced as a number (or the stated n/a) in the JSON it writes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.processes import ROOT

pytestmark = pytest.mark.e2e

LATENCY_KEYS = {"p50", "p95", "p99", "mean", "min", "max", "n", "lost"}
THROUGHPUT_KEYS = {"step_runs_per_s", "runs_per_s", "window_s", "step_runs", "triggered"}


def run_quick_bench(output_dir: Path) -> tuple[dict[str, Any], str]:
    """The JSON the run wrote and the table it printed."""
    services = bool(os.environ.get("DATABASE_URL"))
    command = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--backend",
        "services" if services else "embedded",
        "--output-dir",
        str(output_dir),
    ]
    if services:
        command += ["--redis-url", os.environ["REDIS_URL"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "trigger-to-start p50 (ms)" in result.stdout
    return dict(json.loads((output_dir / "latest.json").read_text())), result.stdout


def assert_numbers(figures: dict[str, Any], keys: set[str]) -> None:
    assert keys <= set(figures), figures
    for key in keys:
        assert isinstance(figures[key], int | float), (key, figures)


def test_quick_run_writes_every_figure(tmp_path: Path) -> None:
    results, stdout = run_quick_bench(tmp_path)

    [(backend, data)] = results["backends"].items()
    assert backend == ("services" if os.environ.get("DATABASE_URL") else "embedded")
    assert_numbers(data["latency_ms"]["noop"], LATENCY_KEYS)
    assert data["latency_ms"]["noop"]["n"] > 0
    event = data["latency_ms"]["event"]
    if isinstance(event, str):
        assert event == "n/a (no events API)"
    else:
        assert_numbers(event, LATENCY_KEYS)
    assert set(data["throughput"]) == {
        "noop_1_worker",
        "noop_2_workers",
        "keyed_2_workers",
        "rate_limited_2_workers",
        "chain_2_workers",
        "fanout_2_workers",
        "spawn_2_workers",
        "durable_2_workers",
    }
    for figures in data["throughput"].values():
        assert_numbers(figures, THROUGHPUT_KEYS)
        assert figures["step_runs"] > 0
    for load in ("light_load", "saturated"):
        assert_numbers(data["cost"][load], {"step_runs", "statements"})
    servers = results["meta"]["server_processes"][backend]
    assert servers == (2 if backend == "services" else 1)
    assert_numbers(data["peak_rss_mb"], {"server", "servers_total", "server_processes", "worker"})
    assert data["peak_rss_mb"]["server_processes"] == servers
    assert f"== {backend}, {servers} Hatchet server process" in stdout
    assert (tmp_path / "latency.png").stat().st_size > 0

    if backend == "services":
        assert_numbers(data["cost"]["light_load"], {"pg_transactions", "pg_rows_inserted"})
        celery = data["celery"]
        assert_numbers(celery["latency_ms"]["noop"], LATENCY_KEYS)
        for name in ("noop_1_process", "noop_2_processes"):
            assert_numbers(celery["throughput"][name], THROUGHPUT_KEYS)
        for side in ("hatchet", "celery"):
            assert_numbers(results["latency_ms"][side], {"p50", "p99"})
            assert isinstance(results["throughput_per_s"][side], int | float)


def test_the_comparison_benchmark_writes_every_figure(tmp_path: Path) -> None:
    services = bool(os.environ.get("DATABASE_URL"))
    output = tmp_path / "comparison.json"
    command = [
        *(sys.executable, "-m", "bench.comparison", "--rows", "3", "--columns", "2"),
        *("--runs", "1", "--workers", "1", "--judge", "--output", str(output)),
        *("--backend", "services" if services else "embedded"),
    ]
    if services:
        command += ["--redis-url", os.environ["REDIS_URL"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)

    assert result.returncode == 0, result.stderr[-4000:]
    assert "last cell finished (s)" in result.stdout
    medians = json.loads(output.read_text())["medians"]
    assert set(medians) == {
        "start_ms",
        "first_cell_s",
        "last_cell_s",
        "last_score_s",
        "scoring_delay_p50_ms",
        "scoring_delay_p95_ms",
        "matrix_read_ms",
        "matrix_kib",
        "last_judgement_s",
        "judge_latency_p50_ms",
        "judge_tokens_per_cell",
        "judge_usd_per_cell",
    }
    assert all(isinstance(value, int | float) and value >= 0 for value in medians.values())
    assert medians["judge_tokens_per_cell"] > 0
