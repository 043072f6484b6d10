"""The systems under test, started for real: Hatchet (server + SDK workers) and Celery.

`HatchetStack` makes a fresh database (a new PostgreSQL database on `services`, a SQLite
file in a temporary directory on `embedded`), migrates it, creates a tenant and a token,
and serves it with `bench.counting_server` processes (each is `manage.py serve` plus a
statement count): several on `services`, as server nodes sharing PostgreSQL and Redis,
one on `embedded`. `CeleryWorker` runs `celery worker` for bench/celery_app.py on the
same Redis, as many nodes (consumer processes) as Hatchet runs server processes.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.celery_app import app, configure, noop
from bench.cpu import Components, pids_named
from bench.database import Database, count_statements_in
from bench.livestack import (
    LIVE_STACK_KEYS,
    create_fresh_database,
    distinct_free_ports,
    drop_database,
    manage,
    sibling_database_url,
)
from bench.processes import BenchError, Processes, child_pids, peak_rss_mb, wait_until
from hatchet.sdk import Hatchet

SERVER_START_TIMEOUT = 60.0
WORKER_START_TIMEOUT = 30.0
SERVER_SETTINGS = {"HATCHET_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **LIVE_STACK_KEYS}


def server_process_count(backend: str, requested: int) -> int:
    """Server processes run on `backend`: an in-memory channel layer (embedded) cannot
    span processes, so there the servers could not wake each other."""
    return requested if backend == "services" else 1


@dataclass
class ServerProcess:
    """One `bench.counting_server` of the stack and where it writes its statement counts."""

    process: subprocess.Popen[bytes]
    url: str
    counts_path: Path


class HatchetStack:
    """A live Hatchet deployment on one backend: its server processes, the worker
    processes added to it, and a client of each server."""

    def __init__(
        self,
        backend: str,
        processes: Processes,
        postgres_url: str,
        redis_url: str,
        server_processes: int,
    ) -> None:
        self.backend = backend
        self.processes = processes
        self.server_count = server_process_count(backend, server_processes)
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"hatchet-bench-{backend}-"))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.env.update(SERVER_SETTINGS, HATCHET_DATA_DIR=str(self.data_dir))
        self.database_url: str | None = None
        if backend == "services":
            self.database_url = sibling_database_url(postgres_url, f"hatchet_bench_{os.getpid()}")
            self.env.update(DATABASE_URL=self.database_url, REDIS_URL=redis_url)
        else:
            self.env.pop("DATABASE_URL", None)
            self.env.pop("REDIS_URL", None)
        self.servers: list[ServerProcess] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._clients: list[Hatchet] = []
        self.token = ""
        self.database: Database | None = None

    def start(self) -> None:
        if self.database_url is not None:
            create_fresh_database(self.database_url)
            count_statements_in(self.database_url)
        self._manage("migrate", "--verbosity", "0")
        self.token = self._manage(
            "create_api_token", "--tenant", "bench", "--create-tenant", "--role", "admin"
        ).strip()
        for index, port in enumerate(distinct_free_ports(self.server_count)):
            self.servers.append(self._start_server(index, port))
        for server in self.servers:
            wait_until(
                partial(self._is_healthy, server),
                SERVER_START_TIMEOUT,
                f"the {self.backend} server at {server.url}",
            )
        self._clients = [Hatchet(server_url=s.url, token=self.token) for s in self.servers]
        self.database = Database(
            self.database_url, None if self.database_url else str(self.data_dir / "db.sqlite3")
        )

    def stop(self) -> None:
        """Stop the workers and the servers, and drop what the run created."""
        for client in self._clients:
            client.close()
        for worker in self.workers:
            self.processes.stop(worker)
        for server in self.servers:
            self.processes.stop(server.process)
        if self.database is not None:
            self.database.close()
        if self.database_url is not None:
            drop_database(self.database_url)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def db(self) -> Database:
        if self.database is None:
            raise RuntimeError("start() first")
        return self.database

    @property
    def url(self) -> str:
        """The first server's address: the harness's own API calls go there."""
        return self.servers[0].url

    def client(self) -> Hatchet:
        """A client of the first server."""
        return self._clients[0]

    def clients(self) -> list[Hatchet]:
        """A client of each server, in the servers' order."""
        return list(self._clients)

    def start_worker(self, slots: int) -> None:
        """Start one more SDK worker process and wait until the server lists it ACTIVE.

        Worker i connects to server i mod N, as behind a load balancer."""
        server = self.servers[len(self.workers) % len(self.servers)]
        name = f"bench-worker-{len(self.workers) + 1}"
        worker = self.processes.start(
            [sys.executable, "-m", "bench.workflows", "--name", name, "--slots", str(slots)],
            {
                **self.env,
                "HATCHET_SERVER_URL": server.url,
                "HATCHET_TOKEN": self.token,
                "HATCHET_WORKER_GRACE": "2",
            },
        )
        self.workers.append(worker)

        def is_active() -> bool:
            self.processes.check_alive(worker, name)
            return name in self._active_workers()

        wait_until(is_active, WORKER_START_TIMEOUT, f"worker {name} registering")

    def cursor_calls(self) -> tuple[dict[str, int], float]:
        """The servers' cumulative cursor calls by leading SQL keyword and the seconds
        spent in them, summed over the server processes, freshly flushed."""
        from bench.counting_server import COUNT_FLUSH_INTERVAL

        time.sleep(3 * COUNT_FLUSH_INTERVAL)
        calls: Counter[str] = Counter()
        seconds = 0.0
        for server in self.servers:
            try:
                counts = json.loads(server.counts_path.read_text())
            except (OSError, ValueError):
                continue
            calls.update({kind: int(count) for kind, count in counts["calls"].items()})
            seconds += float(counts["seconds"])
        return dict(calls), seconds

    def cpu_components(self) -> Components:
        """The processes of each part of the deployment, for bench/cpu.py."""
        components: Components = {
            "server": lambda: [server.process.pid for server in self.servers],
            "worker": lambda: [worker.pid for worker in self.workers],
            "client": lambda: [os.getpid()],
        }
        if self.database_url is not None:
            components["postgres"] = partial(pids_named, "postgres")
            components["redis"] = partial(pids_named, "redis-server")
        return components

    def peak_memory_mb(self) -> dict[str, float | None]:
        """`server` is the largest server process, `servers_total` their sum, beside
        `server_processes` (how many ran); `worker` is the largest worker process."""
        server_peaks = known_peaks(server.process.pid for server in self.servers)
        worker_peaks = known_peaks(worker.pid for worker in self.workers)
        return {
            "server": max(server_peaks, default=None),
            "servers_total": round(sum(server_peaks), 1) if server_peaks else None,
            "server_processes": len(self.servers),
            "worker": max(worker_peaks, default=None),
        }

    def _start_server(self, index: int, port: int) -> ServerProcess:
        counts_path = self.data_dir / f"statement-counts-{index}.json"
        # The bench runs no Celery beat, so the ticker (timeouts, dead workers) runs in a
        # server: in the first only, as one beat drives a deployment of several nodes, so
        # that its sweeps' statements do not grow with the number of servers.
        ticker = "1" if index == 0 else "0"
        process = self.processes.start(
            [
                sys.executable,
                "-m",
                "bench.counting_server",
                "--port",
                str(port),
                "--counts",
                str(counts_path),
            ],
            {**self.env, "HATCHET_IN_PROCESS_TICKER": ticker},
        )
        return ServerProcess(process, f"http://127.0.0.1:{port}", counts_path)

    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kwargs,
        )

    def _active_workers(self) -> set[str]:
        workers = self._api("GET", "/workers", params={"limit": 500}).json()["results"]
        return {w["name"] for w in workers if w["status"] == "ACTIVE"}

    def _is_healthy(self, server: ServerProcess) -> bool:
        self.processes.check_alive(server.process, f"the {self.backend} server at {server.url}")
        try:
            return httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def add_member(self, username: str, password: str, role: str) -> None:
        """A dashboard user of the bench tenant."""
        self._manage(
            *("add_member", "--tenant", "bench", "--username", username),
            *("--password", password, "--role", role),
        )

    def _manage(self, *args: str) -> str:
        return manage(self.env, *args)


def known_peaks(pids: Iterable[int]) -> list[float]:
    """Peak RSS (MiB) of those of the processes that are still there to ask."""
    return [peak for peak in map(peak_rss_mb, pids) if peak is not None]


class CeleryWorker:
    """`celery worker` nodes for bench/celery_app.py, with a queue of their own on the
    shared Redis."""

    def __init__(self, processes: Processes, redis_url: str) -> None:
        self.processes = processes
        self.redis_url = redis_url
        self.queue = f"bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "BENCH_CELERY_URL": redis_url, "BENCH_CELERY_QUEUE": self.queue}
        configure(redis_url, self.queue)
        self.redis = redis.Redis.from_url(redis_url)
        self.nodes: list[subprocess.Popen[bytes]] = []

    def start(self, nodes: int, concurrency: int) -> None:
        """Start `nodes` worker nodes (each a consumer process of the queue) with
        `concurrency` prefork pool processes each; wait until every node answers a ping
        and a task has run."""
        names = [f"{self.queue}-{index}@{socket.gethostname()}" for index in range(nodes)]
        for name in names:
            self.nodes.append(
                self.processes.start(
                    [
                        *(sys.executable, "-m", "celery", "-A", "bench.celery_app", "worker"),
                        *("--pool", "prefork", "--concurrency", str(concurrency)),
                        *("--queues", self.queue, "--loglevel", "WARNING"),
                        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                        *("--hostname", name),
                    ],
                    self.env,
                )
            )

        def all_answer() -> bool:
            for node in self.nodes:
                self.processes.check_alive(node, "a Celery worker node")
            replies = app.control.ping(destination=names, timeout=0.5) or []
            return set(names) <= {name for reply in replies for name in reply}

        wait_until(all_answer, WORKER_START_TIMEOUT, f"{nodes} Celery worker node(s) answering")
        probe = noop.apply_async(args=(time.time(), "probe"), queue=self.queue)
        try:
            probe.get(timeout=WORKER_START_TIMEOUT)
        except Exception as exc:
            raise BenchError(
                f"the Celery workers ran no task within {WORKER_START_TIMEOUT:g} s"
            ) from exc
        finally:
            probe.forget()

    def stop(self) -> None:
        for node in self.nodes:
            self.processes.stop(node)
        self.nodes = []

    def cpu_components(self) -> Components:
        """The nodes' main processes (the consumers), their pool processes, Redis and
        the client, for bench/cpu.py."""
        return {
            "celery main": lambda: [node.pid for node in self.nodes],
            "celery pool": self.pool_pids,
            "redis": partial(pids_named, "redis-server"),
            "client": lambda: [os.getpid()],
        }

    def peak_memory_mb(self) -> dict[str, float | None]:
        if not self.nodes:
            raise RuntimeError("start() first")
        return {
            "main": max(known_peaks(node.pid for node in self.nodes), default=None),
            "pool_process": max(known_peaks(self.pool_pids()), default=None),
        }

    def pool_pids(self) -> list[int]:
        """The prefork pool processes of every node."""
        return [pid for node in self.nodes for pid in child_pids(node.pid)]

    def close(self) -> None:
        self.stop()
        self.redis.delete(self.queue)
        self.redis.close()
