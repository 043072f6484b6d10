"""PgBouncer in transaction mode between Hatchet and PostgreSQL (docs/deploy.md): a
server and a worker whose every database connection goes through it migrate, and run a
DAG, a step that spawns and joins children, and a durable step that sleeps."""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.livestack import drop_database, free_port
from tests.e2e.live import (
    LiveServer,
    fresh_postgres_url,
    server_env,
    step_run,
    stop_process,
    wait_for,
    wait_for_status,
    worker_named,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"), reason="PgBouncer fronts PostgreSQL: services only"
    ),
]
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# PgBouncer will not run as root; it drops to this user, who must read its files.
RUN_AS = "postgres"


def accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def bounced_server() -> Iterator[LiveServer]:
    assert Path(PGBOUNCER).exists(), "pgbouncer is missing: `make pgbouncer` installs it"
    database_url = fresh_postgres_url(os.environ["DATABASE_URL"], "hatchet_pgbouncer")
    target = urlsplit(database_url)
    name = target.path.lstrip("/")
    user = target.username or "postgres"
    directory = Path(tempfile.mkdtemp(prefix="hatchet-pgbouncer-"))
    directory.chmod(0o777)
    port = free_port()
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n{name} = host={target.hostname} port={target.port or 5432} "
        f"dbname={name}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {directory / 'users.txt'}\npool_mode = transaction\n"
        "max_client_conn = 500\ndefault_pool_size = 20\nunix_socket_dir =\n"
        f"logfile = {directory / 'pgbouncer.log'}\npidfile = {directory / 'pgbouncer.pid'}\n"
    )
    for path in directory.iterdir():
        path.chmod(0o644)
    command = [PGBOUNCER, *(["-u", RUN_AS] if os.geteuid() == 0 else []), str(config)]
    bouncer = subprocess.Popen(command)
    env = server_env(directory)
    env["DATABASE_URL"] = f"postgres://{user}@127.0.0.1:{port}/{name}"
    env["HATCHET_DB_PREPARE_THRESHOLD"] = "off"
    server: LiveServer | None = None
    try:
        wait_for(lambda: bouncer.poll() is None and accepts(port), timeout=10)
        server = LiveServer(env, directory)
        server.start()
        yield server
        # Every connection went through it.
        assert "login attempt" in (directory / "pgbouncer.log").read_text()
    finally:
        if server is not None:
            server.stop()
        stop_process(bouncer)
        drop_database(database_url)
        shutil.rmtree(directory, ignore_errors=True)


def test_a_server_and_workers_behind_pgbouncer_in_transaction_mode(
    bounced_server: LiveServer, markers: Path
) -> None:
    worker = bounced_server.spawn(
        *("-m", "tests.e2e.worker_app", "--name", "bounced", "--slots", "6"),
        HATCHET_SERVER_URL=bounced_server.url,
        HATCHET_TOKEN=bounced_server.token,
    )
    try:
        wait_for(lambda: worker_named(bounced_server, "bounced", worker), timeout=30)
        client = bounced_server.client()
        dag = client.admin.run_workflow("FanOut", {"n": 3})
        parent = client.admin.run_workflow("Parent", {"n": 10})
        sleeper = client.admin.run_workflow(
            "DurableSleeper", {"seconds": 1, "markers": str(markers)}
        )

        detail = wait_for_status(bounced_server, dag.workflow_run_id, "SUCCEEDED", timeout=30)
        assert step_run(detail, "join")["output"] == {"sum": 3 * 2 + 3**2}
        detail = wait_for_status(bounced_server, parent.workflow_run_id, "SUCCEEDED", timeout=60)
        assert step_run(detail, "fan")["output"] == {"sum": sum(n * n for n in range(10))}
        detail = wait_for_status(bounced_server, sleeper.workflow_run_id, "SUCCEEDED", timeout=30)
        assert [a["status"] for a in step_run(detail, "nap")["attempts"]] == [
            "WAITING",
            "SUCCEEDED",
        ]
    finally:
        stop_process(worker)
