"""A live Daphne server, SDK worker processes and the waits that the end-to-end and
browser tests share."""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
from django.db import OperationalError

from bench.livestack import (
    LIVE_STACK_KEYS,
    QUICK_FAULT_TIMINGS,
    ROOT,
    create_fresh_database,
    drop_database,
    free_port,
    manage,
    sibling_database_url,
)
from hatchet.sdk import Hatchet

E2E_SETTINGS = {
    **QUICK_FAULT_TIMINGS,
    **LIVE_STACK_KEYS,
    # Every test's browser and client signs in from 127.0.0.1.
    "HATCHET_SIGN_IN_ADDRESS_RATE": "600/min",
    "HATCHET_IN_PROCESS_TICKER": "1",
    "HATCHET_LOG_LEVEL": "WARNING",
}


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that it may stop (an outage
    the other tests do not share) and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.answers_ping, timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def answers_ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port).ping())
        except redis.RedisError:
            return False


def fresh_postgres_url(base_url: str, name: str = "hatchet_e2e") -> str:
    """A new empty database beside the one DATABASE_URL names."""
    url = sibling_database_url(base_url, f"{name}_{os.getpid()}")
    create_fresh_database(url)
    return url


def stop_process(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10
) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def api_client(url: str, token: str) -> httpx.Client:
    """The REST API of the server at `url`, as the holder of `token`."""
    return httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


class LiveServer:
    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = open(data_dir / "server.log", "ab")  # noqa: SIM115
        self.manage("migrate", "--verbosity", "0")
        self.token = self.manage(
            "create_api_token", "--tenant", "e2e", "--create-tenant", "--role", "admin"
        ).strip()

    @property
    def backend(self) -> str:
        return "services" if "DATABASE_URL" in self.env else "embedded"

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """A Python process (`python *args`) beside the server, on its settings unless
        `env` says otherwise, logging into its log."""
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> None:
        self.process = self.spawn("manage.py", "serve", "--port", str(self.port))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.tail_log()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("server did not start:\n" + self.tail_log())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop_process(self.process, sig)

    def tail_log(self, lines: int = 60) -> str:
        self.log.flush()
        text = (self.data_dir / "server.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def client(self) -> Hatchet:
        return Hatchet(server_url=self.url, token=self.token)

    def api(self) -> httpx.Client:
        return api_client(self.url, self.token)


@contextmanager
def serving(
    database: str = "hatchet_e2e", *, flush_redis: bool = False, **env: str
) -> Iterator[LiveServer]:
    """A live server on a fresh database (PostgreSQL + Redis when DATABASE_URL is set,
    else embedded), with `env` over the E2E settings; stopped and dropped at the end.
    `flush_redis` empties Redis first, which only the first server of a run may do."""
    data_dir = Path(tempfile.mkdtemp(prefix="hatchet-e2e-"))
    server_settings = {**server_env(data_dir), **env}
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        server_settings["DATABASE_URL"] = fresh_postgres_url(database_url, database)
        if flush_redis:
            redis.Redis.from_url(server_settings["REDIS_URL"]).flushdb()
    else:
        server_settings.pop("REDIS_URL", None)
    server = LiveServer(server_settings, data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if database_url:
            drop_database(server_settings["DATABASE_URL"])


@contextmanager
def serving_on_private_redis(
    database: str, **env: str
) -> Iterator[tuple[LiveServer, PrivateRedis]]:
    """A live server (PostgreSQL) whose Redis is a private one the test may stop."""
    outage = PrivateRedis()
    outage.start()
    try:
        with serving(database, flush_redis=False, REDIS_URL=outage.url, **env) as server:
            yield server, outage
    finally:
        outage.stop()


def server_env(data_dir: Path) -> dict[str, str]:
    """The environment of a live server's processes: this one's, with E2E_SETTINGS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(E2E_SETTINGS, HATCHET_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    return env


def start_celery(server: LiveServer, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """A Celery worker or beat (`args`) on the server's settings unless `env` says otherwise."""
    return server.spawn(
        "-m", "celery", "-A", "hatchet.celery", *args, "--loglevel", "WARNING", **env
    )


WorkerFactory = Callable[..., subprocess.Popen[bytes]]


def worker_named(server: LiveServer, name: str, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, f"worker {name} exited:\n{server.tail_log()}"
    with server.api() as api:
        workers = api.get("/workers", params={"limit": 500}).json()["results"]
    return any(w["name"] == name and w["status"] == "ACTIVE" for w in workers)


def wait_for(condition: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    """The first true value of `condition`. A read that meets a table another thread is
    writing counts as not yet: on SQLite the tests' in-memory database shares a cache
    with the threads that run tasks in the embedded mode, and such a read fails at once
    ("database table is locked") instead of waiting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except OperationalError as error:
            if "locked" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def run_detail(server: LiveServer, run_id: str) -> dict[str, Any]:
    with server.api() as api:
        response = api.get(f"/runs/{run_id}")
        response.raise_for_status()
        return dict(response.json())


def wait_for_status(
    server: LiveServer, run_id: str, *statuses: str, timeout: float = 30
) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (run := run_detail(server, run_id))["status"] in statuses and run,
            timeout=timeout,
        )
    )


def step_run(run: dict[str, Any], step: str) -> dict[str, Any]:
    return next(s for s in run["step_runs"] if s["step"] == step)


async def receive_until_closed(socket: Any, timeout: float) -> None:
    """Read what a websocket sends until it closes (websockets raises ConnectionClosed
    then), each message within `timeout` seconds."""
    while True:
        await asyncio.wait_for(socket.recv(), timeout)
