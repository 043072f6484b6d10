"""The loops of periodic work (run_engine's, the server's in-process ticker): a pass
that fails is logged and tried again after a wait that doubles and resets on success,
and the engine's work goes on after its database connections were terminated."""

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
import redis
from django.db import connection
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.livestack import free_port
from hatchet.models import Tenant
from hatchet.periodic import PeriodicWork, run_periodically
from tests.e2e.live import wait_for
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.maintenance import run_deadlines
from workflows.engine.schedules import schedule_run
from workflows.models import ScheduledRun
from workflows.ticker import engine_work, tick


def test_a_failed_pass_is_logged_and_tried_again_after_a_wait_that_doubles_then_resets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    passes: list[tuple[float, float]] = []
    nobody_listens = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))

    def pass_that_fails_three_times() -> None:
        started = time.monotonic()
        try:
            if len(passes) in (1, 2, 3):
                nobody_listens.ping()
        finally:
            passes.append((started, time.monotonic()))

    work = PeriodicWork("flaky work", pass_that_fails_three_times, 0.2, longest_backoff=0.8)

    async def until_six_passes() -> None:
        loop = asyncio.create_task(run_periodically([work]))
        while len(passes) < 6:
            await asyncio.sleep(0.01)
        loop.cancel()

    asyncio.run(until_six_passes())

    waits = [later[0] - earlier[1] for earlier, later in pairwise(passes)]
    for wait, expected in zip(waits, [0.2, 0.4, 0.8, 0.8, 0.2], strict=True):
        assert expected <= wait < expected + 0.15, waits
    assert [r.getMessage() for r in caplog.records if r.name == "hatchet.periodic"] == [
        "flaky work failed (1 in a row); trying again in 0.4 s",
        "flaky work failed (2 in a row); trying again in 0.8 s",
        "flaky work failed (3 in a row); trying again in 0.8 s",
        "flaky work works again after 3 failures",
    ]
    assert all(r.exc_info for r in caplog.records if "failed" in r.getMessage())


def fired(schedule: ScheduledRun) -> bool:
    return ScheduledRun.objects.get(pk=schedule.pk).status == "FIRED"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend")
def test_the_in_process_ticker_fires_schedules_after_its_connections_were_terminated(
    tenant: Tenant, in_process_ticker: Callable[[], None], settings: Any
) -> None:
    settings.HATCHET_TICK_INTERVAL = 0.1
    in_process_ticker()
    register_workflow(tenant, definition("Report", [{"name": "only"}]))
    first = schedule_run(tenant, "Report", timezone.now() + timedelta(seconds=0.2))
    wait_for(lambda: fired(first))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.rowcount >= 1
    after = schedule_run(tenant, "Report", timezone.now() + timedelta(seconds=0.2))

    wait_for(lambda: fired(after))


@pytest.mark.django_db(transaction=True)  # the tick closes old connections
def test_the_tick_and_its_loops_take_in_the_other_apps_parts() -> None:
    # workers and playground add theirs when they start: workflows imports neither.
    assert set(tick()) == {
        "schedules_fired",
        "crons_fired",
        *run_deadlines(),
        "durable_waits_due",
        "durable_waits_swept",
        "paused_runs_released",
        "rate_limit_uses_forgotten",
        "idempotency_keys_forgotten",
        "concurrency_keys_settled",
        "queue_depths_sampled",
        "queue_depth_samples_forgotten",
        "unstarted_requeued",
        "dead_worker_step_runs_requeued",
        "alerts_fired",
        "alerts_reminded",
        "alerts_resolved",
    }
    assert [work.name for work in engine_work()] == [
        "engine tick",
        "history retention",
        "pull request refresh",
    ]
