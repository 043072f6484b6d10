"""`python -m bench`: run the benchmark, print the table, write the JSON and the plot."""

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from bench.livestack import ManageCommandFailed
from bench.processes import ROOT, BenchError, stop_on_sigterm
from bench.report import format_table, plot_latency, write_json
from bench.suite import Settings, run_suite

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/hatchet"
# Its own Redis database, so that the test suite's (15) is never touched.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_settings(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--backend", choices=["services", "embedded", "both"], default="both")
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of each throughput window"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="latency triggers per second")
    parser.add_argument("--latency-runs", type=int, default=600, help="runs measured for latency")
    parser.add_argument("--slots", type=int, default=10, help="slots of each Hatchet worker")
    parser.add_argument(
        "--high-water", type=int, default=400, help="queued step runs the load keeps up"
    )
    parser.add_argument(
        "--server-processes",
        type=positive_int,
        default=2,
        help="Hatchet server processes on the services backend, sharing PostgreSQL and "
        "Redis; the embedded backend always runs 1 (its in-memory channel layer cannot "
        "span processes)",
    )
    parser.add_argument("--output-dir", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL,
        help="a fresh database is made beside this one",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--quick", action="store_true", help="a few runs and ~2 s windows: checks it works"
    )
    args = parser.parse_args(argv)
    backends = ("services", "embedded") if args.backend == "both" else (args.backend,)
    if args.quick:
        return Settings(
            backends=backends,
            duration=1.5,
            warmup=0.5,
            rate=args.rate,
            latency_runs=10,
            latency_warmup=2,
            slots=args.slots,
            high_water=50,
            server_processes=args.server_processes,
            output_dir=args.output_dir,
            postgres_url=args.postgres_url,
            redis_url=args.redis_url,
            quick=True,
        )
    return Settings(
        backends=backends,
        duration=args.duration,
        warmup=min(5.0, args.duration / 5),
        rate=args.rate,
        latency_runs=args.latency_runs,
        latency_warmup=max(10, int(args.rate)),
        slots=args.slots,
        high_water=args.high_water,
        server_processes=args.server_processes,
        output_dir=args.output_dir,
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
        quick=False,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s")
    # One line per trigger request would drown the progress lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    settings = parse_settings(sys.argv[1:] if argv is None else argv)
    try:
        results, samples = run_suite(settings)
    except (BenchError, ManageCommandFailed) as exc:
        print(f"bench failed: {exc}\n(process output: {settings.log_path})", file=sys.stderr)
        return 1
    write_json(results, settings.output_dir / "latest.json")
    plot_latency(samples, settings.output_dir / "latency.png")
    print(format_table(results))
    print(f"\nwrote {settings.output_dir / 'latest.json'} and latency.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
