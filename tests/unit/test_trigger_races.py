"""Two tickers racing for twenty seconds over the same crons and schedules (PostgreSQL:
SKIP LOCKED claims): every tick and every schedule starts exactly one run."""

import threading
import time
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import connection
from django.utils import timezone

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.crons import create_cron, fire_due_crons
from workflows.engine.definitions import register_workflow
from workflows.engine.schedules import fire_due_schedules, schedule_run
from workflows.models import ScheduledRun, WorkflowRun

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

RACE_SECONDS = 20
CRONS = 5
SCHEDULES = 120


def test_two_tickers_racing_start_each_run_exactly_once(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Report", [{"name": "only"}]))
    crons = [create_cron(tenant, "Report", "* * * * * *") for _ in range(CRONS)]
    start = timezone.now()
    for i in range(SCHEDULES):
        at = start + timedelta(seconds=1 + i * (RACE_SECONDS - 3) / SCHEDULES)
        schedule_run(tenant, "Report", at, input={"i": i})
    # Several schedules share each due time, so both tickers find the same rows due.
    errors: list[BaseException] = []
    stop_at = time.monotonic() + RACE_SECONDS

    def ticker() -> None:
        try:
            while time.monotonic() < stop_at:
                fire_due_schedules()
                fire_due_crons()
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ticker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = (timezone.now() - start).total_seconds()

    assert errors == []
    per_schedule = Counter(
        WorkflowRun.objects.filter(trigger="schedule").values_list("scheduled_run", flat=True)
    )
    assert len(per_schedule) == SCHEDULES
    assert set(per_schedule.values()) == {1}
    assert set(ScheduledRun.objects.values_list("status", flat=True)) == {"FIRED"}
    for cron in crons:
        times = sorted(WorkflowRun.objects.filter(cron=cron).values_list("created_at", flat=True))
        # One run per second that passed, and never two close together (a tick fired
        # twice would start both within milliseconds; on a loaded machine a late tick
        # brings its run within a few tenths of a second of the next).
        assert elapsed - 3 <= len(times) <= elapsed + 1
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        assert min(gaps) > 0.1
