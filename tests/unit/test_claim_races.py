"""Claims racing from many threads at once (PostgreSQL: SKIP LOCKED and slot locks)."""

import contextlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from hatchet.models import Tenant
from tests.factories import definition
from tests.unit.test_dispatch import LocalWorker
from workers.dispatch import dispatcher
from workers.models import Worker
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import (
    Assignment,
    claim_queued_step_runs,
    lock_worker_slots,
)
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun

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
            # As a worker's own fill does.
            with transaction.atomic():
                lock_worker_slots(worker)
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


def test_a_trigger_never_waits_for_a_slot_lock_another_transaction_holds(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slot locks taken in different orders by two transactions deadlocked a trigger
    with a worker's refill; only a worker's own fill or refill waits for its lock, as
    the first lock of its transaction, and the claim a trigger makes for a worker whose
    lock is busy takes nothing (the dispatchers are woken instead)."""
    register_workflow(tenant, definition("One", [{"name": "only"}]))
    busy = CountingWorker(tenant, ["One:only"], slots=5)
    monkeypatch.setattr(dispatcher, "loop", object())
    monkeypatch.setattr(dispatcher, "connections", {busy.worker_id: busy})
    delivered: list[Any] = []
    monkeypatch.setattr(dispatcher, "deliver", lambda *sent: delivered.extend(sent[1]))
    with slots_locked_elsewhere(busy.worker_id):
        started = time.monotonic()
        run = trigger_workflow_run(tenant, "One", {})
        took = time.monotonic() - started

    assert took < 2
    assert StepRun.objects.get(workflow_run=run).status == "QUEUED"
    assert busy.claims == 1
    assert delivered == []


@contextlib.contextmanager
def slots_locked_elsewhere(worker_id: uuid.UUID) -> Iterator[None]:
    """The worker's slot lock, held by another transaction (a claim for it) meanwhile."""
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                lock_worker_slots(worker_id)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        holder.join()


class CountingWorker(LocalWorker):
    claims = 0

    def claim_for_me(self, actions: Iterable[str]) -> list[Assignment]:
        self.claims += 1
        return super().claim_for_me(actions)


def test_no_step_run_that_chooses_its_worker_is_claimed_past_another_claims_slot_lock(
    tenant: Tenant,
) -> None:
    """The worker's slot lock, held by a claim for it in another transaction, keeps its
    held count from moving under this one's: without it, two claims could both fill the
    same free slots with constrained step runs."""
    step = {"name": "work", "desired_worker_labels": {"gpu": {"value": True}}}
    register_workflow(tenant, definition("Picky", [step]))
    trigger_workflow_run(tenant, "Picky", {})
    worker = Worker.objects.create(
        tenant=tenant, name="gpu", actions=["Picky:work"], slots=1, labels={"gpu": True}
    )
    with slots_locked_elsewhere(worker.id):
        claimed = claim_queued_step_runs(
            tenant_id=tenant.id,
            worker_id=worker.id,
            worker_name="gpu",
            actions=["Picky:work"],
            slots=1,
        )

    assert claimed == []
