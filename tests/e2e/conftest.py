"""A live Daphne server and real SDK worker processes, on whichever backend the
suite runs with: SQLite + in-memory without DATABASE_URL, PostgreSQL + Redis with it."""

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.livestack import free_port
from tests.e2e.live import (
    LiveServer,
    WorkerFactory,
    serving,
    stop_process,
    wait_for,
    worker_named,
)


@pytest.fixture(scope="session")
def hatchet_server() -> Iterator[LiveServer]:
    with serving(flush_redis=True) as server:
        yield server


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    directory = tmp_path / "markers"
    directory.mkdir()
    return directory


@pytest.fixture
def start_worker(hatchet_server: LiveServer) -> Iterator[WorkerFactory]:
    """Start SDK worker processes serving tests/e2e/worker_app.py; all stop at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str = "e2e-worker", slots: int = 5, **env: str) -> subprocess.Popen[bytes]:
        process = hatchet_server.spawn(
            *("-m", "tests.e2e.worker_app", "--name", name, "--slots", str(slots)),
            **{
                "HATCHET_SERVER_URL": hatchet_server.url,
                "HATCHET_TOKEN": hatchet_server.token,
                "HATCHET_WORKER_GRACE": "2",
                **env,
            },
        )
        processes.append(process)
        wait_for(lambda: worker_named(hatchet_server, name, process), timeout=20)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def second_server(hatchet_server: LiveServer) -> Iterator[str]:
    """Another server process on the same database and Redis (services backend only:
    embedded runs in one process)."""
    if hatchet_server.backend != "services":
        pytest.skip("one process serves the embedded backend")
    port = free_port()
    process = hatchet_server.spawn("manage.py", "serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: healthy(url, process), timeout=30)
    yield url
    stop_process(process)


def healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
