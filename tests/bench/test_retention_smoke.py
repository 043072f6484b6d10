"""`python -m bench.retention` still works end to end on PostgreSQL, with a few runs; no
timing is asserted, only that every row is printed with its figures."""

import os
import subprocess
import sys

import pytest

from bench.livestack import drop_database, sibling_database_url
from bench.processes import ROOT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="the benchmark fills PostgreSQL"),
]

ROWS = [
    "runs list, first page (limit 50)",
    "runs list, first page (limit 50): its count (capped at 10,000)",
    "runs list, FAILED only",
    "runs list, FAILED only: its count (capped at 10,000)",
    "claim 10 queued step runs",
    "retention: one batch of 500 runs",
    "retention: one batch of 500 runs, archived",
]


def test_the_retention_bench_prints_every_row_empty_and_full() -> None:
    url = sibling_database_url(os.environ["DATABASE_URL"], "hatchet_retention_bench_smoke")
    command = [sys.executable, "-m", "bench.retention", "--runs", "2000", "--postgres-url", url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )
    finally:
        drop_database(url)

    assert result.returncode == 0, result.stderr[-4000:]
    lines = result.stdout.splitlines()
    assert [cell.strip() for cell in lines[0].split(" | ")[1:3]] == ["empty, ms", "2,000 runs, ms"]
    assert [line.split(" | ")[0].strip() for line in lines[1:]] == ROWS
    for line in lines[1:]:
        empty, full = (cell.strip().split(" ±") for cell in line.split(" | ")[1:3])
        assert all(float(number) >= 0 for number in [*empty, *full]), line
