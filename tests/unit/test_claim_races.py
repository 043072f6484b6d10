"""Claims racing from many threads at once (PostgreSQL: SKIP LOCKED and slot locks)."""

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection

from hatchet.models import Tenant
from tests.conftest import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.runs import trigger_workflow_run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def race(
    tenant: Tenant, workers: list[uuid.UUID], slots: int
) -> list[tuple[uuid.UUID, Assignment]]:
    claimed: list[tuple[uuid.UUID, Assignment]] = []
    barrier = threading.Barrier(len(workers))

    def claim(worker: uuid.UUID) -> None:
        barrier.wait()
        try:
            for assignment in claim_queued_step_runs(
                tenant_id=tenant.id,
                worker_id=worker,
                worker_name="w",
                actions=["One:only"],
                slots=slots,
            ):
                claimed.append((worker, assignment))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed


def test_racing_claims_for_one_worker_fill_its_slots_exactly(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    for _ in range(30):
        trigger_workflow_run(tenant, "One", {})
    worker = uuid.uuid4()

    claimed = race(tenant, [worker] * 8, slots=5)

    assert len(claimed) == 5


def test_racing_workers_never_get_the_same_step_run(tenant: Tenant) -> None:
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    for _ in range(30):
        trigger_workflow_run(tenant, "One", {})
    workers = [uuid.uuid4() for _ in range(8)]

    claimed = race(tenant, workers, slots=3)

    assert len(claimed) == 24
    assert len({a.step_run_id for _, a in claimed}) == 24
    assert set(Counter(w for w, _ in claimed).values()) == {3}
