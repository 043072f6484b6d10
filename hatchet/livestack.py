"""Pieces for running a live Hatchet on this machine from outside it: free loopback
ports, a fresh PostgreSQL database, manage.py commands, and the short timings under
which faults show within seconds. Used by the end-to-end tests, the benchmarks and the
fault suite."""

import socket
import subprocess
import sys
from pathlib import Path

import psycopg

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
