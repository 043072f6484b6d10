"""Pieces for running a live Hatchet on this machine from outside it: free loopback
ports, a fresh PostgreSQL database, manage.py commands, the short timings under which
faults show within seconds, and the faults of the services (connections terminated or
refused, a Redis of one's own to stop). Used by the end-to-end tests, the benchmarks and
the fault suite."""

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]

# Short timings so that faults are noticed within seconds.
QUICK_FAULT_TIMINGS = {
    "HATCHET_HEARTBEAT_INTERVAL": "1",
    # Above the SDK's longest reconnect backoff (5 s), as the default (15 s) is.
    "HATCHET_WORKER_TIMEOUT": "6",
    "HATCHET_ASSIGN_START_TIMEOUT": "5",
    "HATCHET_TICK_INTERVAL": "0.25",
    "HATCHET_DISPATCH_POLL_INTERVAL": "0.5",
}

# A live stack's processes run as in production (DEBUG off), which needs keys of their
# own: they refuse the public development SECRET_KEY.
LIVE_STACK_KEYS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "HATCHET_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "HATCHET_METRICS_TOKEN": secrets.token_urlsafe(24),
}


class ManageCommandFailed(RuntimeError):
    """A manage.py command exited non-zero; the message holds the end of its stderr."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def distinct_free_ports(count: int) -> list[int]:
    """`count` different free ports (two calls of free_port may hand out the same one)."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def manage(env: dict[str, str], *args: str) -> str:
    """Run `manage.py *args` in a child process with `env`; its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise ManageCommandFailed(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def sibling_database_url(url: str, name: str) -> str:
    """The URL of database `name` on the server that `url` points at."""
    return f"{url.rsplit('/', 1)[0]}/{name}"


def create_fresh_database(url: str) -> None:
    """(Re)create the database that `url` names, empty."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def terminate_connections(url: str, application_name: str | None = None) -> int:
    """Terminate the connections to the database that `url` names (only those of
    `application_name`, when given), as a database restart or an operator would;
    returns how many."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND (%s::text IS NULL OR application_name = %s)",
            (name, application_name, application_name),
        ).fetchall()
    return len(rows)


@contextmanager
def connections_refused(url: str, application_name: str | None = None) -> Iterator[None]:
    """While inside, the database that `url` names refuses new connections, and those
    of `application_name` (all, if None) are terminated, as if it restarted."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            terminate_connections(url, application_name)
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


class RedisServer:
    """A redis-server of one's own on a free port, to stop and start again (on the
    same port, empty) while the processes that use it keep running."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis.from_url(self.url) as client:
                    client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
