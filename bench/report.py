"""The results: the JSON file, the table printed at the end, and the latency plot."""

import json
from pathlib import Path
from typing import Any

from bench.latency import Samples
from bench.workflows import CHECKPOINTS, SPAWN_WIDTH

NA = "n/a"


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue names, for the PostgreSQL + Redis one-step no-op case:
    latency, and no-op steps/s with two worker processes (the median of the window's
    parts), both sides sending in batches and both singly."""
    services = results["backends"].get("services")
    if not services or "celery" not in services:
        return {}
    ours, celery = services["throughput"], services["celery"]["throughput"]
    return {
        "latency_ms": {
            "hatchet": services["latency_ms"]["noop"],
            "celery": services["celery"]["latency_ms"]["noop"],
        },
        "throughput_per_s": {
            "hatchet": ours["noop_2_workers"]["median_per_s"],
            "celery": celery["noop_2_processes_batched"]["median_per_s"],
            "single": {
                "hatchet": ours["noop_2_workers_single"]["median_per_s"],
                "celery": celery["noop_2_processes"]["median_per_s"],
            },
        },
    }


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**headline(results), **results}, indent=2) + "\n")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _cell(value: Any) -> str:
    number = _number(value)
    if number is None:
        return str(value) if isinstance(value, str) else NA
    return f"{number:,.1f}"


def _with_spread(value: Any, spread: Any) -> Any:
    """A median with the spread of its windows, for the table."""
    number, width = _number(value), _number(spread)
    if number is None or width is None:
        return value
    return f"{number:,.1f} (±{width / 2:,.1f})"


def _ratio(ours: Any, theirs: Any) -> str:
    a, b = _number(_median(ours)), _number(_median(theirs))
    return f"{a / b:.2f}x" if a is not None and b else ""


def _median(cell: Any) -> Any:
    """The median of a `_with_spread` cell, for a ratio."""
    if isinstance(cell, str) and " (±" in cell:
        return float(cell.split(" (±")[0].replace(",", ""))
    return cell


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def table_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, Hatchet, Celery, Hatchet/Celery) rows for one backend."""
    rows: list[tuple[str, str, str, str]] = []
    celery = data.get("celery", {})

    def row(label: str, ours: Any, *theirs: Any) -> None:
        # Only figures Celery has a counterpart for get a Celery cell and a ratio.
        if celery and theirs:
            rows.append((label, _cell(ours), _cell(theirs[0]), _ratio(ours, theirs[0])))
        else:
            rows.append((label, _cell(ours), "", ""))

    for percentile in ("p50", "p95", "p99"):
        row(
            f"trigger-to-start {percentile} (ms), median of windows (± half spread)",
            latency(data, percentile),
            latency(celery, percentile),
        )
    for percentile in ("p50", "p99"):
        row(
            f"trigger call answered {percentile} (ms)",
            _dig(data, "latency_ms", "noop", "answered", percentile),
            _dig(celery, "latency_ms", "noop", "answered", percentile),
        )
    event = _dig(data, "latency_ms", "event")
    if isinstance(event, str):
        row("event-to-start (ms)", event)
    else:
        for percentile in ("p50", "p95", "p99"):
            row(f"event-to-start {percentile} (ms)", _dig(event, percentile))
    for label, ours, theirs in (
        ("no-op steps/s, 1 worker, one run a request", "noop_1_worker", "noop_1_process"),
        (
            "no-op steps/s, 2 workers, in batches of 100",
            "noop_2_workers",
            "noop_2_processes_batched",
        ),
        (
            "no-op steps/s, 2 workers, one run a request",
            "noop_2_workers_single",
            "noop_2_processes",
        ),
        ("(Celery: 2 pool processes under 1 node)", "", "noop_2_processes_1_node"),
    ):
        row(label, rate(data, ours), rate(celery, theirs))
    row(
        "no-op steps/s with a concurrency key, 2 workers",
        _dig(data, "throughput", "keyed_2_workers", "step_runs_per_s"),
    )
    row(
        "no-op steps/s with a rate limit, 2 workers",
        _dig(data, "throughput", "rate_limited_2_workers", "step_runs_per_s"),
    )
    for name, label in (("chain_2_workers", "3-step chain"), ("fanout_2_workers", "1->20->1")):
        row(f"{label}: step runs/s", _dig(data, "throughput", name, "step_runs_per_s"))
        row(f"{label}: runs/s", _dig(data, "throughput", name, "runs_per_s"))
    spawned = _dig(data, "throughput", "spawn_2_workers", "runs_per_s")
    row(
        f"parents spawning and joining {SPAWN_WIDTH} children: runs/s",
        spawned,
    )
    row(
        "children spawned and joined/s",
        round(spawned * SPAWN_WIDTH, 1) if isinstance(spawned, int | float) else spawned,
    )
    row(
        f"durable steps of {CHECKPOINTS} checkpoints: steps/s",
        _dig(data, "throughput", "durable_2_workers", "step_runs_per_s"),
    )
    for load in ("light_load", "saturated", "saturated_single"):
        cost = _dig(data, "cost", load) or {}
        row(
            f"SQL statements/step run, {load} ({cost.get('statements_source')})",
            cost.get("statements"),
        )
        row(f"Django cursor calls/step run, {load}", cost.get("cursor_calls"))
        if cost.get("pg_transactions") is not None:
            row(f"PG transactions/step run, {load}", cost.get("pg_transactions"))
        row(f"server waiting on the database, ms/step run, {load}", cost.get("db_wait_ms"))
        for part, ms in (cost.get("cpu_ms") or {}).items():
            row(f"CPU ms/step run, {load}: {part}", ms)
    for name in ("noop_2_processes", "noop_2_processes_batched"):
        for part, ms in (_dig(celery, "throughput", name, "cpu_ms") or {}).items():
            row(f"Celery CPU ms/task, {name}: {part}", "", ms)
    row(
        "peak RSS server / Celery main (MiB)",
        _dig(data, "peak_rss_mb", "server"),
        _dig(celery, "peak_rss_mb", "main"),
    )
    row(
        "peak RSS worker / pool process (MiB)",
        _dig(data, "peak_rss_mb", "worker"),
        _dig(celery, "peak_rss_mb", "pool_process"),
    )
    return rows


def latency(data: dict[str, Any], percentile: str) -> Any:
    windows = _dig(data, "latency_ms", "noop", "windows", percentile) or {}
    return _with_spread(windows.get("median"), windows.get("spread"))


def rate(data: dict[str, Any], phase: str) -> Any:
    figures = _dig(data, "throughput", phase) or {}
    return _with_spread(figures.get("median_per_s"), figures.get("spread_per_s"))


def aligned(rows: list[list[str]]) -> list[str]:
    """Rows as text columns: the first left-aligned, the others right, a rule under the
    header row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines: list[str] = []
    for index, cells in enumerate(rows):
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(cells)
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def format_table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    header = ["figure", "Hatchet", "Celery", "Hatchet/Celery"]
    for backend, data in results["backends"].items():
        servers = results["meta"]["server_processes"][backend]
        lines.append(
            f"\n== {backend}, {servers} Hatchet server process{'es' if servers != 1 else ''} =="
        )
        lines.extend(aligned([header, *(list(row) for row in table_rows(data))]))
    return "\n".join(lines)


def plot_latency(series: dict[str, Samples], path: Path) -> None:
    """CDFs of the latency samples on one log-x plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for label, samples in series.items():
        if not samples:
            continue
        ordered = sorted(samples)
        fractions = [(index + 1) / len(ordered) for index in range(len(ordered))]
        axes.step(ordered, fractions, where="post", label=f"{label} (n={len(ordered)})")
    axes.set_xscale("log")
    axes.set_xlabel("trigger-to-start latency (ms, log scale)")
    axes.set_ylabel("fraction of runs started")
    axes.set_title("Trigger-to-start latency, no-op step, light steady load")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="center right")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
