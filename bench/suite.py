"""The order of the phases on each backend, and Celery's, into one results dict."""

import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cost import per_step_run, snapshot
from bench.cpu import cpu_ms_per_step, cpu_snapshot
from bench.latency import Samples, celery_latency, hatchet_latency
from bench.processes import ROOT, Processes
from bench.stack import CeleryWorker, HatchetStack, server_process_count
from bench.throughput import celery_throughput, hatchet_throughput
from bench.workflows import (
    CHAIN,
    DURABLE,
    FANOUT,
    FANOUT_WIDTH,
    KEYED,
    NOOP,
    RATE_LIMIT_KEY,
    RATE_LIMIT_PER_SECOND,
    RATE_LIMITED,
    SPAWN,
    SPAWN_WIDTH,
)

logger = logging.getLogger("bench")


@dataclass(frozen=True)
class Settings:
    backends: tuple[str, ...]
    duration: float
    warmup: float
    rate: float
    latency_runs: int
    latency_warmup: int
    slots: int
    high_water: int
    # On `services`; `embedded` always runs one (see server_process_count).
    server_processes: int
    output_dir: Path
    postgres_url: str
    redis_url: str
    quick: bool
    # Output of the server, worker and Celery processes; kept outside the repository.
    log_path: Path = Path(tempfile.gettempdir()) / f"hatchet-bench-{os.getpid()}.log"


def run_suite(settings: Settings) -> tuple[dict[str, Any], dict[str, Samples]]:
    """Every phase on every backend asked for; returns the results and the latency samples."""
    results: dict[str, Any] = {"meta": meta(settings), "backends": {}}
    samples: dict[str, Samples] = {}
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    with Processes(settings.log_path) as processes:
        for backend in settings.backends:
            logger.info("== %s ==", backend)
            data, backend_samples = run_hatchet(settings, backend, processes)
            samples.update({f"Hatchet, {backend}": backend_samples})
            if backend == "services":
                data["celery"], samples["Celery 5, Redis"] = run_celery(settings, processes)
            results["backends"][backend] = data
    return results, samples


def run_hatchet(
    settings: Settings, backend: str, processes: Processes
) -> tuple[dict[str, Any], Samples]:
    stack = HatchetStack(
        backend, processes, settings.postgres_url, settings.redis_url, settings.server_processes
    )
    data: dict[str, Any] = {"latency_ms": {}, "throughput": {}, "cost": {}}
    try:
        stack.start()
        client, clients, db = stack.client(), stack.clients(), stack.db
        stack.start_worker(settings.slots)

        def throughput(workflow: str, steps_per_run: int, batched: bool = True) -> dict[str, Any]:
            high_water = max(2, settings.high_water // steps_per_run)
            logger.info(
                "throughput %s, %d worker(s)%s",
                *(workflow, len(stack.workers), "" if batched else ", one run a request"),
            )
            return hatchet_throughput(
                clients, db, workflow, high_water, settings.warmup, settings.duration, batched
            )

        data["throughput"]["noop_1_worker"] = throughput(NOOP, 1)
        stack.start_worker(settings.slots)

        logger.info("latency, %d runs at %g/s", settings.latency_runs, settings.rate)
        before = snapshot(stack)
        data["latency_ms"]["noop"], noop_samples = hatchet_latency(
            client, db, settings.rate, settings.latency_runs, settings.latency_warmup, False
        )
        data["cost"]["light_load"] = per_step_run(db, NOOP, before, snapshot(stack))

        logger.info("event latency")
        data["latency_ms"]["event"], _ = hatchet_latency(
            client,
            db,
            settings.rate,
            settings.latency_runs,
            settings.latency_warmup,
            event=True,
        )

        before = snapshot(stack)
        data["throughput"]["noop_2_workers"] = throughput(NOOP, 1)
        data["cost"]["saturated"] = per_step_run(db, NOOP, before, snapshot(stack))
        before = snapshot(stack)
        data["throughput"]["noop_2_workers_single"] = throughput(NOOP, 1, batched=False)
        data["cost"]["saturated_single"] = per_step_run(db, NOOP, before, snapshot(stack))
        data["throughput"]["keyed_2_workers"] = throughput(KEYED, 1)
        client.rate_limits.put(RATE_LIMIT_KEY, RATE_LIMIT_PER_SECOND, "second")
        data["throughput"]["rate_limited_2_workers"] = throughput(RATE_LIMITED, 1)
        data["throughput"]["chain_2_workers"] = throughput(CHAIN, 3)
        data["throughput"]["fanout_2_workers"] = throughput(FANOUT, FANOUT_WIDTH + 2)
        data["throughput"]["spawn_2_workers"] = throughput(SPAWN, SPAWN_WIDTH + 1)
        data["throughput"]["durable_2_workers"] = throughput(DURABLE, 1)
        data["peak_rss_mb"] = stack.peak_memory_mb()
    finally:
        stack.stop()
    return data, noop_samples


def run_celery(settings: Settings, processes: Processes) -> tuple[dict[str, Any], Samples]:
    """The same no-op latency and throughput with Celery: 1 pool process, then 2 under
    as many worker nodes (consumer processes) as Hatchet runs server processes, sent
    singly and in groups, then 2 under one node (Celery's usual shape)."""
    celery = CeleryWorker(processes, settings.redis_url)
    data: dict[str, Any] = {"latency_ms": {}, "throughput": {}}
    samples: Samples = []
    nodes = min(2, settings.server_processes)

    def throughput(name: str, batched: bool = False) -> None:
        logger.info("Celery throughput %s", name)
        before = cpu_snapshot(celery.cpu_components())
        result = celery_throughput(
            celery.queue,
            celery.redis,
            settings.high_water,
            settings.warmup,
            settings.duration,
            batched,
        )
        after = cpu_snapshot(celery.cpu_components())
        result["cpu_ms"] = cpu_ms_per_step(before, after, result["triggered"])
        data["throughput"][name] = result

    try:
        celery.start(nodes=1, concurrency=1)
        throughput("noop_1_process")
        celery.stop()

        celery.start(nodes=nodes, concurrency=2 // nodes)
        data["nodes"] = nodes
        logger.info("Celery latency")
        data["latency_ms"]["noop"], samples = celery_latency(
            celery.queue, settings.rate, settings.latency_runs, settings.latency_warmup
        )
        throughput("noop_2_processes")
        throughput("noop_2_processes_batched", batched=True)
        data["peak_rss_mb"] = celery.peak_memory_mb()
        celery.stop()

        celery.start(nodes=1, concurrency=2)
        throughput("noop_2_processes_1_node")
    finally:
        celery.close()
    return data, samples


def meta(settings: Settings) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "quick": settings.quick,
        "duration_s": settings.duration,
        "warmup_s": settings.warmup,
        "latency_rate_per_s": settings.rate,
        "latency_runs": settings.latency_runs,
        "worker_slots": settings.slots,
        "queue_high_water_step_runs": settings.high_water,
        "server_processes": {
            backend: server_process_count(backend, settings.server_processes)
            for backend in settings.backends
        },
    }
