"""The loops that fire schedules outlive database and Redis faults: `manage.py
run_engine`, and a Celery worker with Celery beat. Each runs as its own process
beside a server (whose ticker is off) on a database of their own, and on a Redis of
their own that the tests stop and start again; a schedule due after each fault must
still fire."""

import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.livestack import (
    RedisServer,
    connections_refused,
    drop_database,
    terminate_connections,
)
from hatchet.sdk.workflow import workflow_spec_of
from tests.e2e import worker_app
from tests.e2e.live import (
    LiveServer,
    fresh_postgres_url,
    server_env,
    start_celery,
    stop_process,
    wait_for,
)
from workers.dispatch import PUBSUB_CHANNEL

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="faults of PostgreSQL and Redis"),
]

# The loop under test connects under this name, so that only its connections are cut
# (the server's pool has its own fault to survive: a connection dead while idle).
LOOP = "hatchet-loop-under-test"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """A server that takes schedules and fires none (its ticker is off), with Ticked."""
    data_dir = Path(tempfile.mkdtemp(prefix="hatchet-loops-"))
    env = server_env(data_dir)
    env.update(
        DATABASE_URL=fresh_postgres_url(os.environ["DATABASE_URL"], "hatchet_loops"),
        HATCHET_IN_PROCESS_TICKER="0",
    )
    server = LiveServer(env, data_dir)
    try:
        server.start()
        ticked = workflow_spec_of(worker_app.Ticked).to_definition()
        server.client().admin.register_workflow(ticked)
        yield server
    finally:
        server.stop()
        drop_database(env["DATABASE_URL"])


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    redis_server = RedisServer().start()
    yield redis_server
    redis_server.stop()


def schedule(server: LiveServer, in_seconds: float = 1.0) -> str:
    at = datetime.now(UTC) + timedelta(seconds=in_seconds)
    return str(server.client().admin.schedule_workflow("Ticked", at=at)["id"])


def fired(server: LiveServer, schedule_id: str, timeout: float = 30) -> dict[str, Any]:
    def fired_schedule() -> dict[str, Any] | None:
        with server.api() as api:
            found = dict(api.get(f"/schedules/{schedule_id}").json())
        return found if found["status"] == "FIRED" else None

    return dict(wait_for(fired_schedule, timeout=timeout, interval=0.2))


# Longer than the pool waits for a connection (10 s): a pass waits out a shorter
# refusal, and a terminated idle connection is replaced as it is handed out, so only
# this long a refusal makes passes fail.
FAILING_REFUSAL = 11.0


def fire_through_database_faults(server: LiveServer, refused_for: float = 3.0) -> None:
    """The loop's connections are terminated, then refused for `refused_for` seconds:
    the schedules due after each fault fire."""
    assert terminate_connections(server.env["DATABASE_URL"], LOOP) >= 1
    fired(server, schedule(server))

    due_while_refused = schedule(server)
    with connections_refused(server.env["DATABASE_URL"], LOOP):
        time.sleep(refused_for)
    fired(server, due_while_refused)


def test_run_engine_outlives_its_connections_terminated_and_refused(server: LiveServer) -> None:
    engine = server.spawn(*("manage.py", "run_engine", "--interval", "0.25"), PGAPPNAME=LOOP)
    try:
        fired(server, schedule(server), timeout=60)

        fire_through_database_faults(server, refused_for=FAILING_REFUSAL)
        fired(server, schedule(server))

        assert engine.poll() is None, server.tail_log()
        assert "engine tick failed (1 in a row); trying again in 0.5 s" in server.tail_log(2000)
    finally:
        stop_process(engine)


def test_run_engine_outlives_redis_going_down_while_it_fires_schedules(
    server: LiveServer, own_redis: RedisServer
) -> None:
    engine = server.spawn(
        *("manage.py", "run_engine", "--interval", "0.25"), REDIS_URL=own_redis.url
    )
    try:
        fired(server, schedule(server), timeout=60)

        own_redis.stop()
        # Each firing announces its run to live pages and wakes the dispatchers.
        for in_seconds in (1, 3):
            fired(server, schedule(server, in_seconds))

        own_redis.start()
        with redis.Redis.from_url(own_redis.url) as client, client.pubsub() as pubsub:
            pubsub.subscribe(PUBSUB_CHANNEL)
            fired(server, schedule(server))
            messages = [pubsub.get_message(timeout=1) for _ in range(3)]
        wakes = [json.loads(m["data"]) for m in messages if m and m["type"] == "message"]
        assert [wake["kind"] for wake in wakes] == ["wake"]
        assert engine.poll() is None, server.tail_log()
    finally:
        stop_process(engine)


def test_a_celery_worker_and_beat_outlive_the_same_faults(
    server: LiveServer, own_redis: RedisServer, tmp_path: Path
) -> None:
    settings = {"REDIS_URL": own_redis.url, "PGAPPNAME": LOOP}
    worker = start_celery(server, "worker", "--pool", "solo", "--without-mingle", **settings)
    beat = start_celery(
        server,
        *("beat", "--schedule", str(tmp_path / "schedule"), "--pidfile", str(tmp_path / "pid")),
        **settings,
    )
    try:
        fired(server, schedule(server), timeout=60)

        fire_through_database_faults(server)

        due_while_redis_is_down = schedule(server)
        own_redis.stop()
        time.sleep(3)
        own_redis.start()
        fired(server, due_while_redis_is_down)
        fired(server, schedule(server))

        assert worker.poll() is None, server.tail_log()
        assert beat.poll() is None, server.tail_log()
    finally:
        stop_process(worker)
        stop_process(beat)
