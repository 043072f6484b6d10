"""`manage.py dev` as the README runs it, on whichever backend the suite runs with: it
says which, serves with the limits of `manage.py serve`, runs what fires schedules,
and SIGTERM stops it and every process it started."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from bench.livestack import drop_database, free_port
from bench.processes import ROOT
from tests.e2e.live import api_client, fresh_postgres_url, stop_process, wait_for

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def address(url: str) -> str:
    """host:port/name, without the credentials."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] + parts.path


@dataclass
class Dev:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    env: dict[str, str]

    @property
    def backend(self) -> str:
        return "services" if "DATABASE_URL" in self.env else "embedded"

    @property
    def output(self) -> str:
        return (self.data_dir / "dev.log").read_text(errors="replace")

    @property
    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()

    def api(self) -> httpx.Client:
        return api_client(self.url, self.token)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    data_dir = tmp_path_factory.mktemp("dev")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENAI_"))}
    env.update(HATCHET_DATA_DIR=str(data_dir), HATCHET_TICK_INTERVAL="0.25", PYTHONUNBUFFERED="1")
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        env["DATABASE_URL"] = fresh_postgres_url(database_url, "hatchet_dev")
    else:
        env.pop("REDIS_URL", None)
    port = free_port()
    with open(data_dir / "dev.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "dev", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Dev(process, f"http://127.0.0.1:{port}", data_dir, env)
    wait_for(lambda: process.poll() is None and "example     worker" in running.output, 60)
    yield running
    stop_process(process, timeout=40)  # dev stops its children first
    if database_url:
        drop_database(env["DATABASE_URL"])


def test_the_banner_says_which_backend_it_runs_on(dev: Dev) -> None:
    if dev.backend == "embedded":
        expected = [
            "  database    SQLite, " + str(dev.data_dir / "db.sqlite3"),
            "  channels    in memory, in the server",
            "  celery      eager, in the server",
            "  engine tick in the server",
        ]
    else:
        redis = address(dev.env["REDIS_URL"])
        expected = [
            "  database    PostgreSQL, " + address(dev.env["DATABASE_URL"]),
            f"  channels    Redis, {redis}",
            f"  celery      a worker on Redis, {redis} (started here)",
            "  engine tick manage.py run_engine (started here)",
        ]
    lines = dev.output.splitlines()
    for line in expected:
        assert line in lines, dev.output


def test_its_server_takes_what_manage_py_serve_takes(dev: Dev) -> None:
    """A 2 MiB message is under the 4 MiB limit: answered, not dropped by the transport."""

    async def scenario() -> dict[str, object]:
        async with websockets.connect(
            dev.url.replace("http", "ws") + "/ws/worker",
            additional_headers={"Authorization": f"Bearer {dev.token}"},
            max_size=None,
        ) as socket:
            await socket.send(
                json.dumps({"type": "register", "name": "raw", "actions": [], "slots": 1})
            )
            assert json.loads(await socket.recv())["type"] == "registered"
            line = {"type": "step.log", "step_run_id": "00000000-0000-0000-0000-000000000000"}
            await socket.send(
                json.dumps({**line, "id": "big", "attempt": 1, "seq": 0, "message": "x" * 2 * MIB})
            )
            return dict(json.loads(await asyncio.wait_for(socket.recv(), 20)))

    assert asyncio.run(scenario()) == {
        "type": "error",
        "code": "unknown_step_run",
        "message": "Unknown step run.",
        "id": "big",
    }


def test_a_one_off_schedule_fires_and_the_example_worker_runs_it(dev: Dev) -> None:
    with dev.api() as api:
        wait_for(lambda: api.get("/workflows/SupportReply").status_code == 200, 30)
        at = datetime.now(UTC) + timedelta(seconds=1)
        created = api.post(
            "/schedules",
            json={
                "workflow": "SupportReply",
                "trigger_at": at.isoformat(),
                "input": {"ticket": "Hi"},
            },
        )
        assert created.status_code == 201, created.text
        schedule = created.json()["id"]
        fired = wait_for(
            lambda: (s := api.get(f"/schedules/{schedule}").json())["run_id"] and s, 30
        )
        run = wait_for(
            lambda: (
                (r := api.get(f"/runs/{fired['run_id']}").json())["status"] == "SUCCEEDED" and r
            ),
            60,
        )
    assert fired["status"] == "FIRED"
    assert run["workflow"] == "SupportReply"


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_example_worker_runs_on_a_worker_token(dev: Dev) -> None:
    worker_token = (dev.data_dir / "worker-token").read_text().strip()
    with dev.api() as api:
        tokens = api.get("/tokens").json()["results"]
        wait_for(lambda: api.get("/workflows/SupportReply").status_code == 200, 30)
        # Its code evaluator, declared by the worker with its workflow.
        evaluators = wait_for(
            lambda: api.get("/playground/evaluators", params={"kind": "code"}).json()["results"],
            30,
        )
    assert [(e["workflow"], e["name"], e["step"], e["config"]) for e in evaluators] == [
        (
            "SupportReply",
            "concise",
            "draft",
            {
                "workflow": "SupportReply.evaluate.concise",
                "function": "examples.support_reply.concise",
                "worker": "support-worker",
            },
        )
    ]
    assert sorted((t["name"], t["role"]) for t in tokens) == [
        ("dev", "admin"),
        ("example worker", "worker"),
    ]
    assert [t["prefix"] for t in tokens if t["role"] == "worker"] == [worker_token[:10]]
    assert f"token ({dev.data_dir / 'worker-token'})" in dev.output


def test_sigterm_stops_dev_and_every_process_it_started(dev: Dev) -> None:
    children = descendants(dev.process.pid)
    expected = 4 if dev.backend == "services" else 2  # + run_engine and the Celery worker
    assert len(children) >= expected, children

    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=40) == 0
    deadline = time.monotonic() + 5
    while any(is_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if is_alive(pid)], dev.output
