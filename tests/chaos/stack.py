"""The deployment under test, started as users start it, and the faults done to it.

On `services`: a redis-server of our own on a free port (so that it can be restarted), a
fresh PostgreSQL database, and N nodes: node i runs `manage.py serve`, on the first T
nodes also `manage.py run_engine` for the tick, on the first C nodes a Celery worker
(with Celery beat on the last node, so that Celery's workers run the tick's tasks
too); SDK worker processes (`python -m tests.chaos.worker_app`), worker i connected to
server i mod N as behind a load balancer. On `embedded`: one server with its in-process
ticker on SQLite, and the workers. Every process writes its own log under
`<run dir>/logs/`.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import redis

from bench.livestack import (
    LIVE_STACK_KEYS,
    QUICK_FAULT_TIMINGS,
    create_fresh_database,
    distinct_free_ports,
    drop_database,
    free_port,
    manage,
    sibling_database_url,
)
from bench.processes import Processes, wait_until
from hatchet.sdk import Hatchet
from tests.chaos.api import Api

SERVER_START_TIMEOUT = 90.0
WORKER_START_TIMEOUT = 60.0
REDIS_DOWN_SECONDS = 2.0


@dataclass
class Child:
    """One process of the stack, restarted in place (same role, port and log) when a
    fault or a crash ends it."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    # A worker's name as the server lists it.
    worker_name: str = ""
    process: subprocess.Popen[bytes] | None = None
    # Set by the harness before it kills the process on purpose.
    killed: bool = False


@dataclass
class Kill:
    """A process the harness SIGKILLed, or one that died on its own."""

    name: str
    pid: int
    at: float
    on_purpose: bool
    exit_code: int | None = None
    log_tail: str = ""


@dataclass
class WorkerSlot:
    """A place for one worker process; a killed worker is replaced by a new one with the
    next number, connected to the same server."""

    server: int
    child: Child


class ChaosStack:
    def __init__(
        self,
        backend: str,
        run_dir: Path,
        processes: Processes,
        postgres_url: str,
        server_count: int,
        worker_count: int,
        slots: int,
        tick_count: int = 1,
        celery_count: int = 0,
    ) -> None:
        self.backend = backend
        self.run_dir = run_dir
        self.logs = run_dir / "logs"
        self.records = run_dir / "executions"
        self.processes = processes
        self.server_count = server_count if backend == "services" else 1
        services = backend == "services"
        self.tick_count = min(tick_count, self.server_count) if services else 0
        self.celery_count = min(celery_count, self.server_count) if services else 0
        self.worker_count = worker_count
        self.slots = slots
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        for name in ("DATABASE_URL", "REDIS_URL", "HATCHET_SQLITE_PATH"):
            self.env.pop(name, None)
        self.env.update(
            {**QUICK_FAULT_TIMINGS, **LIVE_STACK_KEYS},
            HATCHET_DATA_DIR=str(run_dir / "data"),
            HATCHET_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        self.database_url: str | None = None
        self.redis: Child | None = None
        if backend == "services":
            self.database_url = sibling_database_url(postgres_url, f"hatchet_chaos_{os.getpid()}")
            redis_port = free_port()
            self.redis = Child(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(run_dir),
                ],
                dict(self.env),
                self.logs / "redis.log",
            )
            self.env.update(
                DATABASE_URL=self.database_url,
                REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                # The tick is `manage.py run_engine`'s, not the servers'.
                HATCHET_IN_PROCESS_TICKER="0",
            )
        self.token = ""
        self.servers: list[Child] = []
        self.server_urls: list[str] = []
        # Node i's processes besides its server: its tick, its Celery worker, the beat.
        self.node_children: list[list[Child]] = [[] for _ in range(self.server_count)]
        self.workers: list[WorkerSlot] = []
        self.workers_started = 0
        self.kills: list[Kill] = []
        self.lock = threading.RLock()
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        assert self._api is not None, "start() first"
        return self._api

    @property
    def children(self) -> list[Child]:
        own_redis = [self.redis] if self.redis else []
        others = [child for node in self.node_children for child in node]
        return own_redis + self.servers + others + [slot.child for slot in self.workers]

    def describe(self) -> str:
        if self.backend == "services":
            celery = (
                f", {self.celery_count} Celery workers and Celery beat" if self.celery_count else ""
            )
            return (
                f"services: {self.server_count} nodes of manage.py serve, manage.py run_engine "
                f"on {self.tick_count}{celery}; {self.worker_count} workers x {self.slots} "
                f"slots, PostgreSQL {self.database_url}, own redis-server "
                f"({self.env['REDIS_URL']})"
            )
        return (
            f"embedded: 1 server (manage.py serve, in-process ticker, SQLite), "
            f"{self.worker_count} workers x {self.slots} slots"
        )

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.records.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "data").mkdir(parents=True, exist_ok=True)
        if self.redis is not None:
            self._start_redis()
        if self.database_url is not None:
            create_fresh_database(self.database_url)
        manage(self.env, "migrate", "--verbosity", "0")
        for index, port in enumerate(distinct_free_ports(self.server_count)):
            self.server_urls.append(f"http://127.0.0.1:{port}")
            serve = ["manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
            name = f"server-{index + 1}"
            self.servers.append(
                Child(name, [sys.executable, *serve], self.env, self.logs / f"{name}.log")
            )
        self._plan_nodes()
        for child in self.children:
            if child is not self.redis:
                self._launch(child)
        # While the servers start.
        token = manage(
            self.env, "create_api_token", "--tenant", "chaos", "--create-tenant", "--role", "admin"
        )
        self.token = token.strip()
        for index in range(self.server_count):
            self._wait_for_server(index)
        self._api = Api(self.server_urls, self.token)
        for index in range(self.worker_count):
            self.workers.append(
                WorkerSlot(index % self.server_count, self._new_worker(index % self.server_count))
            )
        for slot in self.workers:
            self._wait_for_worker(slot.child)

    def _plan_nodes(self) -> None:
        for index in range(self.tick_count):
            self._add_to_node(index, f"tick-{index + 1}", "manage.py", "run_engine")
        celery = ["-m", "celery", "-A", "hatchet.celery"]
        for index in range(self.celery_count):
            name = f"celery-{index + 1}"
            # As README's production commands run it, with two processes.
            worker = ["worker", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
            worker += ["--concurrency", "2", "-n", f"{name}@%h"]
            self._add_to_node(index, name, *celery, *worker)
        if self.celery_count:
            schedule = str(self.run_dir / "beat-schedule")
            beat = ["beat", "--loglevel", "INFO", "--schedule", schedule]
            self._add_to_node(self.server_count - 1, "beat", *celery, *beat)

    def _add_to_node(self, node: int, name: str, *args: str) -> None:
        child = Child(name, [sys.executable, *args], self.env, self.logs / f"{name}.log")
        self.node_children[node].append(child)

    def clients(self) -> list[Hatchet]:
        """An SDK client of each server, in the servers' order."""
        return [Hatchet(server_url=url, token=self.token, timeout=10.0) for url in self.server_urls]

    def stop(self) -> None:
        if self._api is not None:
            self._api.close()
        for child in reversed(self.children):
            if child.process is not None:
                self.processes.stop(child.process)
        if self.database_url is not None:
            drop_database(self.database_url)

    # Faults. Each returns when the stack is whole again, with what it did.

    def held_step_runs(self) -> dict[str, int]:
        """The step runs each active worker holds, by its name."""
        workers = self.api.read("/workers", {"limit": 500})["results"]
        return {w["name"]: w["used_slots"] for w in workers if w["status"] == "ACTIVE"}

    def busiest_worker(self, preferred: int) -> int:
        """The worker slot whose worker holds the most step runs; `preferred` on a tie."""
        held = self.held_step_runs()
        order = [preferred] + [i for i in range(len(self.workers)) if i != preferred]
        return max(order, key=lambda i: held.get(self.workers[i].child.worker_name, 0))

    def kill_worker(self, index: int) -> str:
        with self.lock:
            slot = self.workers[index]
            old = slot.child
            pid = self._kill(old)
            slot.child = self._new_worker(slot.server)
            self._wait_for_worker(slot.child)
            return f"{old.name} (pid {pid}) SIGKILLed; {slot.child.name} started in its place"

    def kill_server(self, index: int) -> str:
        with self.lock:
            server = self.servers[index]
            pid = self._kill(server)
            self._launch(server)
            self._wait_for_server(index)
            return f"{server.name} (pid {pid}) SIGKILLed and restarted"

    def kill_node(self, index: int) -> str:
        """SIGKILL every process of node `index` at once (its server, tick, Celery worker
        or beat), as when the machine dies, and start them again."""
        with self.lock:
            children = [self.servers[index], *self.node_children[index]]
            pids = [self._kill(child) for child in children]
            for child in children:
                self._launch(child)
            self._wait_for_server(index)
            killed = ", ".join(
                f"{c.name} (pid {pid})" for c, pid in zip(children, pids, strict=True)
            )
            return f"{killed} SIGKILLed and restarted"

    def restart_redis(self) -> str:
        with self.lock:
            assert self.redis is not None
            assert self.redis.process is not None
            self.redis.killed = True
            self.processes.stop(self.redis.process)
            time.sleep(REDIS_DOWN_SECONDS)
            self._start_redis()
            return f"redis-server stopped, started again {REDIS_DOWN_SECONDS:g} s later"

    def terminate_database_connections(self) -> str:
        assert self.database_url is not None
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return f"{sum(1 for (done,) in rows if done)} connections terminated"

    def replace_dead_processes(self) -> list[Kill]:
        """Processes that exited without the harness killing them: noted, and started
        again so the run goes on (each is a failure of its own)."""
        deaths: list[Kill] = []
        with self.lock:
            for child in self.children:
                process = child.process
                if process is None or child.killed or process.poll() is None:
                    continue
                deaths.append(
                    Kill(
                        child.name,
                        process.pid,
                        time.time(),
                        False,
                        process.returncode,
                        tail(child.log_path),
                    )
                )
                self.processes.stop(process)
                if child is self.redis:
                    self._start_redis()
                elif child in self.servers:
                    self._launch(child)
                else:
                    slot = next((s for s in self.workers if s.child is child), None)
                    if slot is None:
                        self._launch(child)
                    else:
                        slot.child = self._new_worker(slot.server)
            self.kills.extend(deaths)
        return deaths

    def _kill(self, child: Child) -> int:
        assert child.process is not None
        pid = child.process.pid
        child.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        self.kills.append(Kill(child.name, pid, time.time(), True))
        self.processes.stop(child.process)
        return pid

    def _launch(self, child: Child) -> None:
        with child.log_path.open("a") as log:
            log.write(f"--- chaos harness: starting {child.name} at {time.strftime('%H:%M:%S')}\n")
        child.killed = False
        child.process = self.processes.start(child.args, child.env, child.log_path)

    def _new_worker(self, server: int) -> Child:
        self.workers_started += 1
        name = f"worker-{self.workers_started}"
        child = Child(
            name,
            [
                sys.executable,
                "-m",
                "tests.chaos.worker_app",
                "--name",
                f"chaos-{name}",
                "--slots",
                str(self.slots),
                "--records",
                str(self.records),
            ],
            {
                **self.env,
                "HATCHET_SERVER_URL": self.server_urls[server],
                "HATCHET_TOKEN": self.token,
                "HATCHET_WORKER_GRACE": "2",
            },
            self.logs / f"{name}.log",
            worker_name=f"chaos-{name}",
        )
        self._launch(child)
        return child

    def _wait_for_server(self, index: int) -> None:
        child, url = self.servers[index], self.server_urls[index]

        def healthy() -> bool:
            assert child.process is not None
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.process.returncode}:\n{tail(child.log_path)}"
                )
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, SERVER_START_TIMEOUT, f"{child.name} answering /healthz")

    def _wait_for_worker(self, child: Child) -> None:
        def active() -> bool:
            assert child.process is not None
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.process.returncode}:\n{tail(child.log_path)}"
                )
            workers = self.api.read("/workers", {"limit": 500})["results"]
            return any(w["name"] == child.worker_name and w["status"] == "ACTIVE" for w in workers)

        wait_until(active, WORKER_START_TIMEOUT, f"{child.name} registering", interval=0.25)

    def _start_redis(self) -> None:
        assert self.redis is not None
        self._launch(self.redis)
        client = redis.Redis.from_url(self.env["REDIS_URL"])

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        try:
            wait_until(answers, 10, "redis-server answering PING")
        finally:
            client.close()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
