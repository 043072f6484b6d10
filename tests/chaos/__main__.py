"""`python -m tests.chaos`: run the fault suite, print its table, exit 1 if an invariant
broke. The short form by default; `--full` is `make chaos`'s."""

import argparse
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import stop_on_sigterm
from tests.chaos.harness import full_form, run_chaos, short_form

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/hatchet"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--backend", choices=("services", "embedded", "both"), default="both")
    parser.add_argument("--full", action="store_true", help="the long form (make chaos)")
    parser.add_argument("--runs", type=int, help="triggers and event pushes to send")
    parser.add_argument("--duration", type=float, help="seconds of load")
    parser.add_argument("--fault-interval", type=float, help="seconds between faults")
    parser.add_argument(
        "--settle", type=float, help="seconds the runs get to finish after the load"
    )
    parser.add_argument("--seed", type=int, help="seed of the load's mix")
    parser.add_argument("--nodes", type=int, help="server nodes (services)")
    parser.add_argument("--ticks", type=int, help="nodes that also run manage.py run_engine")
    parser.add_argument(
        "--celery-workers", type=int, help="nodes that also run a Celery worker (with beat)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL,
        help="a server where a fresh database hatchet_chaos_<pid> is made (and dropped)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / f"hatchet-chaos-{time.strftime('%Y%m%d-%H%M%S')}",
        help="where logs, execution records and verdict.json go (one folder per backend)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s chaos: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    backends = ["services", "embedded"] if args.backend == "both" else [args.backend]
    broken = False
    for backend in backends:
        form = full_form if args.full else short_form
        settings = form(backend, args.run_dir / backend, args.postgres_url)
        for name, value in (
            ("runs", args.runs),
            ("duration", args.duration),
            ("fault_interval", args.fault_interval),
            ("settle_timeout", args.settle),
            ("seed", args.seed),
            ("servers", args.nodes),
            ("ticks", args.ticks),
            ("celery_workers", args.celery_workers),
        ):
            if value is not None:
                setattr(settings, name, value)
        verdict = run_chaos(settings)
        print(verdict.table(), flush=True)
        broken = broken or bool(verdict.broken())
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
