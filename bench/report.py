"""The results: the JSON file, the table printed at the end, and the latency plot."""

import json
from pathlib import Path
from typing import Any

from bench.latency import Samples
from bench.workflows import CHECKPOINTS, SPAWN_WIDTH

NA = "n/a"


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue names, for the PostgreSQL + Redis one-step no-op case."""
    services = results["backends"].get("services")
    if not services or "celery" not in services:
        return {}
    celery = services["celery"]
    return {
        "latency_ms": {
            "hatchet": services["latency_ms"]["noop"],
            "celery": celery["latency_ms"]["noop"],
        },
        "throughput_per_s": {
            "hatchet": services["throughput"]["noop_2_workers"]["step_runs_per_s"],
            "celery": celery["throughput"]["noop_2_processes"]["step_runs_per_s"],
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


def _ratio(ours: Any, theirs: Any) -> str:
    a, b = _number(ours), _number(theirs)
    return f"{a / b:.2f}x" if a is not None and b else ""


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
            f"trigger-to-start {percentile} (ms)",
            _dig(data, "latency_ms", "noop", percentile),
            _dig(celery, "latency_ms", "noop", percentile),
        )
    event = _dig(data, "latency_ms", "event")
    if isinstance(event, str):
        row("event-to-start (ms)", event)
    else:
        for percentile in ("p50", "p95", "p99"):
            row(f"event-to-start {percentile} (ms)", _dig(event, percentile))
    for workers, processes in (("1_worker", "1_process"), ("2_workers", "2_processes")):
        row(
            f"no-op steps/s, {workers.replace('_', ' ')}",
            _dig(data, "throughput", f"noop_{workers}", "step_runs_per_s"),
            _dig(celery, "throughput", f"noop_{processes}", "step_runs_per_s"),
        )
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
    for load in ("light_load", "saturated"):
        row(f"SQL statements/step run, {load}", _dig(data, "cost", load, "statements"))
        if _dig(data, "cost", load, "pg_transactions") is not None:
            row(f"PG transactions/step run, {load}", _dig(data, "cost", load, "pg_transactions"))
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


def format_table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    header = ("figure", "Hatchet", "Celery", "Hatchet/Celery")
    for backend, data in results["backends"].items():
        rows = [header, *table_rows(data)]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        servers = results["meta"]["server_processes"][backend]
        lines.append(
            f"\n== {backend}, {servers} Hatchet server process{'es' if servers != 1 else ''} =="
        )
        for index, cells in enumerate(rows):
            lines.append(
                "  ".join(
                    cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                    for i, cell in enumerate(cells)
                )
            )
            if index == 0:
                lines.append("  ".join("-" * width for width in widths))
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
