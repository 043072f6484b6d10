"""`python -m bench.scaling`: no-op throughput with 1, 2, 3 ... server processes.

For each count N of `--servers`, a fresh PostgreSQL + Redis deployment of N
`bench.counting_server` processes (the first runs the ticker) gets `--workers` SDK worker
processes (worker i on server i mod N) and the no-op throughput load of `python -m bench`
(bench/throughput.py: four trigger threads, thread t on server t mod N), twice: runs sent
in batches of 100 and one run a request. Each phase reports the median of its window's
parts with their spread, the statements PostgreSQL ran, the transactions it committed,
and the CPU milliseconds per step run of each part (bench/cpu.py). The table it prints
is what bench/README.md's scaling model is read against.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.__main__ import DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL, positive_int
from bench.cost import per_step_run, snapshot
from bench.livestack import ManageCommandFailed
from bench.processes import ROOT, BenchError, Processes
from bench.report import aligned
from bench.stack import HatchetStack
from bench.throughput import hatchet_throughput
from bench.workflows import NOOP

logger = logging.getLogger("bench")

PHASES = (("batched", True), ("single", False))


def measure(
    args: argparse.Namespace, servers: int, processes: Processes
) -> dict[str, dict[str, Any]]:
    """Both phases on a deployment of `servers` server processes."""
    stack = HatchetStack("services", processes, args.postgres_url, args.redis_url, servers)
    figures: dict[str, dict[str, Any]] = {}
    try:
        stack.start()
        for _ in range(args.workers):
            stack.start_worker(args.slots)
        for name, batched in PHASES:
            logger.info("%d server process(es), %s", servers, name)
            before = snapshot(stack)
            throughput = hatchet_throughput(
                stack.clients(),
                stack.db,
                NOOP,
                args.high_water,
                args.warmup,
                args.duration,
                batched,
            )
            figures[name] = {
                "throughput": throughput,
                "cost": per_step_run(stack.db, NOOP, before, snapshot(stack)),
            }
    finally:
        stack.stop()
    return figures


def format_table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    rows = [["figure", *(f"{n} server(s)" for n in results)]]
    for name, _ in PHASES:
        rates = [figures[name]["throughput"] for figures in results.values()]
        rows.append(
            [
                f"no-op steps/s, {name}, median (± half spread)",
                *(f"{r['median_per_s']:,.1f} (±{r['spread_per_s'] / 2:,.1f})" for r in rates),
            ]
        )
        costs = [figures[name]["cost"] for figures in results.values()]
        for key in ("statements", "pg_transactions", "db_wait_ms"):
            rows.append([f"{key}/step run, {name}", *(str(cost.get(key)) for cost in costs)])
        for part in ("server", "worker", "client", "postgres", "redis", "total"):
            rows.append(
                [
                    f"CPU ms/step run, {name}: {part}",
                    *(str(cost.get("cpu_ms", {}).get(part)) for cost in costs),
                ]
            )
    return "\n".join(aligned(rows))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--servers", default="1,2,3", help="server process counts, e.g. 1,2,3")
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--slots", type=positive_int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--high-water", type=positive_int, default=400)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "scaling.json")
    args = parser.parse_args(argv)
    args.warmup = min(5.0, args.duration / 5)
    counts = [int(count) for count in args.servers.split(",")]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log_path = Path(tempfile.gettempdir()) / f"hatchet-bench-scaling-{os.getpid()}.log"
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        with Processes(log_path) as processes:
            for count in counts:
                results[str(count)] = measure(args, count, processes)
    except (BenchError, ManageCommandFailed) as exc:
        print(f"bench failed: {exc}\n(process output: {log_path})", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"servers": results}, indent=2) + "\n")
    print(format_table(results))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
