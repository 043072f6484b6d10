"""The comparison benchmark's browser figures are produced: `python -m bench.comparison
--browser` on a small comparison, as bench/README.md runs it on 200 cells. No timing is
asserted (bench/README.md keeps the figures)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.processes import ROOT

pytestmark = pytest.mark.browser

BROWSER_FIGURES = {
    "browser_all_shown_s",
    "browser_blocking_ms",
    "browser_longest_task_ms",
    "browser_filter_ms",
}


def test_the_comparison_benchmark_watches_the_page_in_chromium(tmp_path: Path) -> None:
    output = tmp_path / "comparison.json"
    command = [
        *(sys.executable, "-m", "bench.comparison", "--backend", "embedded"),
        *("--rows", "3", "--columns", "2", "--runs", "1", "--workers", "1"),
        *("--browser", "--output", str(output)),
    ]

    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)

    assert result.returncode == 0, result.stderr[-4000:]
    assert "browser: total blocking time (ms)" in result.stdout
    medians = json.loads(output.read_text())["medians"]
    assert set(medians) >= BROWSER_FIGURES
    assert all(medians[key] >= 0 for key in BROWSER_FIGURES)
    assert medians["browser_all_shown_s"] > 0
