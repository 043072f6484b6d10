"""One run of the fault suite: start the stack, load it while faults are injected,
let it settle, and audit what is left."""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.processes import Processes
from tests.chaos.audit import Audit, Verdict
from tests.chaos.faults import FaultInjector, fault_plan
from tests.chaos.live import LiveWatch, watch_live_updates
from tests.chaos.load import Triggers, run_load, run_probes
from tests.chaos.records import read_executions
from tests.chaos.stack import ChaosStack
from tests.chaos.worker_app import CRON

logger = logging.getLogger("chaos")

# No fault in the load's last seconds, and probes for a while after the last fault
# has been repaired: every fault is followed by load that shows whether the system
# recovered.
QUIET_END = 10.0
PROBES_AFTER_LAST_FAULT = 5.0


@dataclass
class ChaosSettings:
    backend: str
    run_dir: Path
    postgres_url: str
    # Triggers and event pushes sent, evenly over `duration` seconds; the probes and
    # the cron add their own runs.
    runs: int
    duration: float
    first_fault: float
    fault_interval: float
    settle_timeout: float
    probe_interval: float = 1.0
    # Seconds between two watches of a run's live updates from another server.
    live_interval: float = 5.0
    servers: int = 2
    # Nodes that also run `manage.py run_engine`, and that run a Celery worker.
    ticks: int = 1
    celery_workers: int = 0
    workers: int = 3
    slots: int = 10
    seed: int = 1


def short_form(backend: str, run_dir: Path, postgres_url: str) -> ChaosSettings:
    """Minutes, not hours: one fault of each kind (services: a worker, each server,
    Redis, the database connections; embedded: the server, a worker)."""
    return ChaosSettings(
        backend=backend,
        run_dir=run_dir,
        postgres_url=postgres_url,
        runs=300,
        duration=85.0 if backend == "services" else 50.0,
        first_fault=8.0,
        fault_interval=15.0,
        settle_timeout=60.0,
    )


def full_form(backend: str, run_dir: Path, postgres_url: str) -> ChaosSettings:
    """`make chaos`: >= 3,000 runs on services, >= 900 on embedded, every fault many times;
    services on three nodes, the tick on two of them, Celery workers on two."""
    return ChaosSettings(
        backend=backend,
        run_dir=run_dir,
        postgres_url=postgres_url,
        runs=3000 if backend == "services" else 900,
        duration=600.0 if backend == "services" else 300.0,
        first_fault=10.0,
        fault_interval=20.0,
        settle_timeout=120.0,
        servers=3,
        ticks=2,
        celery_workers=2,
    )


def run_chaos(settings: ChaosSettings) -> Verdict:
    started = time.monotonic()
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with Processes(settings.run_dir / "processes.log") as processes:
        stack = ChaosStack(
            settings.backend,
            settings.run_dir,
            processes,
            settings.postgres_url,
            settings.servers,
            settings.workers,
            settings.slots,
            settings.ticks,
            settings.celery_workers,
        )
        try:
            logger.info("starting %s", stack.describe())
            stack.start()
            return load_and_audit(stack, settings, started)
        finally:
            stack.stop()


def load_and_audit(stack: ChaosStack, settings: ChaosSettings, started: float) -> Verdict:
    triggers = Triggers(stack.api, stack.clients())
    plan = fault_plan(
        stack, settings.first_fault, settings.fault_interval, settings.duration - QUIET_END
    )
    injector = FaultInjector(stack, triggers, plan)
    stop = threading.Event()
    live_watches: list[LiveWatch] = []
    load_started = time.monotonic()
    logger.info(
        "load: %d triggers over %.0f s, %d faults, logs in %s",
        settings.runs,
        settings.duration,
        len(plan),
        stack.logs,
    )
    helpers = [
        threading.Thread(target=injector.run, args=(load_started, stop), name="chaos-faults"),
        threading.Thread(
            target=run_probes,
            args=(triggers, stack.server_count, settings.probe_interval, stop),
            name="chaos-probes",
        ),
        threading.Thread(target=watch, args=(stack, stop), name="chaos-watch"),
        threading.Thread(
            target=watch_live_updates,
            args=(stack, triggers, settings.live_interval, stop, live_watches),
            name="chaos-live",
        ),
    ]
    for helper in helpers:
        helper.start()
    try:
        run_load(triggers, settings.runs, settings.duration, stack.server_count, settings.seed)
        helpers[0].join()
        time.sleep(PROBES_AFTER_LAST_FAULT)
    finally:
        stop.set()
        for helper in helpers:
            helper.join()
    triggers.wait()
    settled = settle(stack, settings.settle_timeout)
    stack.replace_dead_processes()
    logger.info("auditing %d triggers and the runs", len(triggers.all))
    audit = Audit(
        stack, triggers.all, injector.faults, read_executions(stack.records), live_watches
    )
    verdict = audit.verdict(settled, time.monotonic() - started)
    verdict.write(settings.run_dir / "verdict.json")
    return verdict


def watch(stack: ChaosStack, stop: threading.Event) -> None:
    """Start again any process that died on its own, so the run goes on; each death is
    reported."""
    while not stop.wait(0.5):
        for death in stack.replace_dead_processes():
            logger.warning("%s (pid %d) died with %s", death.name, death.pid, death.exit_code)


def settle(stack: ChaosStack, timeout: float) -> str:
    """Stop the cron and wait for every run to finish (at most `timeout` s); says how it went."""
    for cron in stack.api.read_all("/crons", {"workflow": CRON}):
        stack.api.request(0, "POST", f"/crons/{cron['id']}/pause").raise_for_status()
    started = time.monotonic()
    while True:
        open_runs = stack.api.read("/runs", {"status": "PENDING,RUNNING", "limit": 1})["count"]
        waited = time.monotonic() - started
        if open_runs == 0:
            return f"in {waited:.1f} s"
        if waited > timeout:
            return f"no: {open_runs} runs still open after {timeout:g} s"
        time.sleep(0.5)
