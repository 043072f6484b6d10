"""The systems under test, started for real: Hatchet (server + SDK workers) and Celery.

`HatchetStack` makes a fresh database (a new PostgreSQL database on `services`, a SQLite
file in a temporary directory on `embedded`), migrates it, creates a tenant and a token,
and serves it with `bench.counting_server` (that is `manage.py serve` plus a statement
count). `CeleryWorker` runs `celery worker` for bench/celery_app.py on the same Redis.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.celery_app import configure, noop
from bench.database import Database
from bench.processes import ROOT, BenchError, Processes, child_pids, peak_rss_mb, wait_until
from hatchet.livestack import (
    create_fresh_database,
    drop_database,
    free_port,
    sibling_database_url,
)
from hatchet.sdk import Hatchet

SERVER_START_TIMEOUT = 60.0
WORKER_START_TIMEOUT = 30.0
SERVER_SETTINGS = {
    # The bench runs no Celery beat: the ticker (timeouts, dead workers) runs in the server.
    "HATCHET_IN_PROCESS_TICKER": "1",
    "HATCHET_LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


class HatchetStack:
    """A live Hatchet server on one backend, with the worker processes added to it."""

    def __init__(
        self, backend: str, processes: Processes, postgres_url: str, redis_url: str
    ) -> None:
        self.backend = backend
        self.processes = processes
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"hatchet-bench-{backend}-"))
        self.counts_path = self.data_dir / "statement-counts.json"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.env.update(SERVER_SETTINGS, HATCHET_DATA_DIR=str(self.data_dir))
        self.database_url: str | None = None
        if backend == "services":
            self.database_url = sibling_database_url(postgres_url, f"hatchet_bench_{os.getpid()}")
            self.env.update(DATABASE_URL=self.database_url, REDIS_URL=redis_url)
        else:
            self.env.pop("DATABASE_URL", None)
            self.env.pop("REDIS_URL", None)
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.token = ""
        self.database: Database | None = None

    def start(self) -> None:
        if self.database_url is not None:
            create_fresh_database(self.database_url)
        self._manage("migrate", "--verbosity", "0")
        self.token = self._manage(
            "create_api_token", "--tenant", "bench", "--create-tenant"
        ).strip()
        self.server = self.processes.start(
            [
                sys.executable,
                "-m",
                "bench.counting_server",
                "--port",
                str(self.port),
                "--counts",
                str(self.counts_path),
            ],
            self.env,
        )
        wait_until(self._is_healthy, SERVER_START_TIMEOUT, f"the {self.backend} server")
        self.database = Database(
            self.database_url, None if self.database_url else str(self.data_dir / "db.sqlite3")
        )

    def stop(self) -> None:
        """Stop the workers and the server, and drop what the run created."""
        for worker in self.workers:
            self.processes.stop(worker)
        if self.server is not None:
            self.processes.stop(self.server)
        if self.database is not None:
            self.database.close()
        if self.database_url is not None:
            drop_database(self.database_url)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def db(self) -> Database:
        assert self.database is not None, "start() first"
        return self.database

    def client(self) -> Hatchet:
        return Hatchet(server_url=self.url, token=self.token)

    def start_worker(self, slots: int) -> None:
        """Start one more SDK worker process and wait until the server lists it ACTIVE."""
        name = f"bench-worker-{len(self.workers) + 1}"
        worker = self.processes.start(
            [sys.executable, "-m", "bench.workflows", "--name", name, "--slots", str(slots)],
            {
                **self.env,
                "HATCHET_SERVER_URL": self.url,
                "HATCHET_TOKEN": self.token,
                "HATCHET_WORKER_GRACE": "2",
            },
        )
        self.workers.append(worker)

        def is_active() -> bool:
            self.processes.check_alive(worker, name)
            return name in self._active_workers()

        wait_until(is_active, WORKER_START_TIMEOUT, f"worker {name} registering")

    def has_events_api(self) -> bool:
        """True once the server routes POST /api/v1/events (another issue adds it)."""
        response = self._api("POST", "/events", json={})
        return response.status_code != 404

    def statement_counts(self) -> dict[str, int]:
        """The server's cumulative SQL statements by leading keyword, freshly flushed."""
        from bench.counting_server import COUNT_FLUSH_INTERVAL

        time.sleep(3 * COUNT_FLUSH_INTERVAL)
        try:
            return {k: int(v) for k, v in json.loads(self.counts_path.read_text()).items()}
        except (OSError, ValueError):
            return {}

    def peak_memory_mb(self) -> dict[str, float | None]:
        assert self.server is not None
        worker_peaks = [peak_rss_mb(worker.pid) for worker in self.workers]
        known = [peak for peak in worker_peaks if peak is not None]
        return {"server": peak_rss_mb(self.server.pid), "worker": max(known) if known else None}

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

    def _is_healthy(self) -> bool:
        assert self.server is not None
        self.processes.check_alive(self.server, f"the {self.backend} server")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise BenchError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout


class CeleryWorker:
    """`celery worker` for bench/celery_app.py, with a queue of its own on the shared Redis."""

    def __init__(self, processes: Processes, redis_url: str) -> None:
        self.processes = processes
        self.redis_url = redis_url
        self.queue = f"bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "BENCH_CELERY_URL": redis_url, "BENCH_CELERY_QUEUE": self.queue}
        configure(redis_url, self.queue)
        self.redis = redis.Redis.from_url(redis_url)
        self.process: subprocess.Popen[bytes] | None = None
        self.concurrency = 0

    def start(self, concurrency: int) -> None:
        """Start a worker node with `concurrency` prefork pool processes; wait until it works."""
        self.concurrency = concurrency
        self.process = self.processes.start(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.celery_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--queues",
                self.queue,
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"{self.queue}@%h",
            ],
            self.env,
        )
        probe = noop.apply_async(args=(time.time(), "probe"), queue=self.queue)
        try:
            probe.get(timeout=WORKER_START_TIMEOUT)
        except Exception as exc:
            self.processes.check_alive(self.process, "the Celery worker")
            raise BenchError(
                f"the Celery worker ran no task within {WORKER_START_TIMEOUT:g} s"
            ) from exc
        finally:
            probe.forget()

    def stop(self) -> None:
        if self.process is not None:
            self.processes.stop(self.process)
            self.process = None

    def depth(self) -> int:
        """Tasks sent and not yet acknowledged: waiting in the queue's list, or reserved by
        the worker (kombu keeps those in the `unacked` hash until the late ack)."""
        with self.redis.pipeline() as pipe:
            pipe.llen(self.queue)
            pipe.hlen("unacked")
            waiting, reserved = pipe.execute()
        return int(waiting) + int(reserved)

    def peak_memory_mb(self) -> dict[str, float | None]:
        assert self.process is not None
        children = [peak_rss_mb(pid) for pid in child_pids(self.process.pid)]
        known = [peak for peak in children if peak is not None]
        return {
            "main": peak_rss_mb(self.process.pid),
            "pool_process": max(known) if known else None,
        }

    def close(self) -> None:
        self.stop()
        self.redis.delete(self.queue)
        self.redis.close()
