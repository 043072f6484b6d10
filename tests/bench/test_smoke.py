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
THROUGHPUT_KEYS = {
    "step_runs_per_s",
    "runs_per_s",
    "median_per_s",
    "spread_per_s",
    "window_s",
    "step_runs",
    "triggered",
}
CPU_PARTS = {"server", "worker", "client", "total"}


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
    assert_numbers(data["latency_ms"]["noop"]["answered"], {"p50", "p95", "p99"})
    for percentile in ("p50", "p95", "p99"):
        assert_numbers(data["latency_ms"]["noop"]["windows"][percentile], {"median", "spread"})
    event = data["latency_ms"]["event"]
    if isinstance(event, str):
        assert event == "n/a (no events API)"
    else:
        assert_numbers(event, LATENCY_KEYS)
    assert set(data["throughput"]) == {
        "noop_1_worker",
        "noop_2_workers",
        "noop_2_workers_single",
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
        assert len(figures["sub_windows_per_s"]) == 5
    for load in ("light_load", "saturated", "saturated_single"):
        assert_numbers(
            data["cost"][load], {"step_runs", "statements", "cursor_calls", "db_wait_ms"}
        )
        assert_numbers(data["cost"][load]["cpu_ms"], CPU_PARTS)
    servers = results["meta"]["server_processes"][backend]
    assert servers == (2 if backend == "services" else 1)
    assert_numbers(data["peak_rss_mb"], {"server", "servers_total", "server_processes", "worker"})
    assert data["peak_rss_mb"]["server_processes"] == servers
    assert f"== {backend}, {servers} Hatchet server process" in stdout
    assert (tmp_path / "latency.png").stat().st_size > 0

    if backend == "services":
        assert_numbers(data["cost"]["light_load"], {"pg_transactions", "pg_rows_inserted"})
        # PostgreSQL's own count (make test-services preloads pg_stat_statements), which
        # sees each row of an executemany: more statements than cursor calls.
        saturated = data["cost"]["saturated"]
        assert saturated["statements_source"] == "pg_stat_statements"
        assert saturated["statements"] > saturated["cursor_calls"]
        assert_numbers(saturated["cpu_ms"], {"postgres", "redis"})
        celery = data["celery"]
        assert celery["nodes"] == 2
        assert_numbers(celery["latency_ms"]["noop"], LATENCY_KEYS)
        for name in (
            "noop_1_process",
            "noop_2_processes",
            "noop_2_processes_batched",
            "noop_2_processes_1_node",
        ):
            assert_numbers(celery["throughput"][name], THROUGHPUT_KEYS)
            assert_numbers(celery["throughput"][name]["cpu_ms"], {"celery main", "celery pool"})
        for side in ("hatchet", "celery"):
            assert_numbers(results["latency_ms"][side], {"p50", "p99"})
            assert isinstance(results["throughput_per_s"][side], int | float)
            assert isinstance(results["throughput_per_s"]["single"][side], int | float)


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


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="server processes share PostgreSQL")
def test_the_scaling_benchmark_measures_each_server_count(tmp_path: Path) -> None:
    output = tmp_path / "scaling.json"
    command = [
        *(sys.executable, "-m", "bench.scaling", "--servers", "1,2", "--duration", "1"),
        *("--high-water", "50", "--output", str(output), "--redis-url", os.environ["REDIS_URL"]),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)

    assert result.returncode == 0, result.stderr[-4000:]
    assert "no-op steps/s, batched" in result.stdout
    servers = json.loads(output.read_text())["servers"]
    assert set(servers) == {"1", "2"}
    for phases in servers.values():
        assert set(phases) == {"batched", "single"}
        for figures in phases.values():
            assert_numbers(figures["throughput"], THROUGHPUT_KEYS)
            assert figures["throughput"]["step_runs"] > 0
            assert_numbers(figures["cost"]["cpu_ms"], CPU_PARTS | {"postgres", "redis"})
