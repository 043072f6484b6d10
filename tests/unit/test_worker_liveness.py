"""Which silent workers are dead: never one whose silence a server caused."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from hatchet.models import Tenant
from workers.models import ServerNode, Worker, WorkerStatus
from workers.registry import release_unless_back, silent_workers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("timeout")]

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=15)


@pytest.fixture
def timeout() -> Iterator[None]:
    with override_settings(HATCHET_WORKER_TIMEOUT=TIMEOUT.total_seconds()):
        yield


def worker(tenant: Tenant, node: str, silent_for: timedelta, name: str = "w") -> Worker:
    return Worker.objects.create(
        tenant=tenant, name=name, slots=1, node=node, last_heartbeat_at=NOW - silent_for
    )


def node(name: str, up_for: timedelta, seen_ago: timedelta = timedelta(0)) -> None:
    ServerNode.objects.create(name=name, started_at=NOW - up_for, seen_at=NOW - seen_ago)


def test_a_worker_silent_while_its_server_is_up_is_dead(tenant: Tenant) -> None:
    node("a:1", up_for=timedelta(hours=1))
    hung = worker(tenant, "a:1", silent_for=TIMEOUT + timedelta(seconds=1))
    worker(tenant, "a:1", silent_for=TIMEOUT - timedelta(seconds=1), name="beating")

    assert silent_workers(NOW) == [hung.id]


def test_a_worker_whose_server_is_down_is_not_dead_for_that_silence(tenant: Tenant) -> None:
    # Its server died 20 s ago; the other node has been up all along, out of its reach.
    node("a:1", up_for=timedelta(hours=1), seen_ago=timedelta(seconds=20))
    node("b:2", up_for=timedelta(hours=1))
    worker(tenant, "a:1", silent_for=timedelta(seconds=20))

    assert silent_workers(NOW) == []


def test_a_restarted_server_gives_its_workers_a_whole_timeout_to_come_back(
    tenant: Tenant,
) -> None:
    node("a:1", up_for=timedelta(hours=1), seen_ago=timedelta(seconds=40))
    waiting = worker(tenant, "a:1", silent_for=timedelta(seconds=40))
    node("a:2", up_for=TIMEOUT - timedelta(seconds=1))
    assert silent_workers(NOW) == []

    ServerNode.objects.filter(name="a:2").update(started_at=NOW - TIMEOUT - timedelta(seconds=1))
    assert silent_workers(NOW) == [waiting.id]


def test_a_worker_silent_for_long_while_another_server_stayed_up_is_dead(tenant: Tenant) -> None:
    # Its server is gone for good; a node up all along would have heard it by now.
    node("a:1", up_for=timedelta(hours=1), seen_ago=4 * TIMEOUT)
    gone = worker(tenant, "a:1", silent_for=4 * TIMEOUT + timedelta(seconds=1))
    worker(tenant, "a:1", silent_for=4 * TIMEOUT - timedelta(seconds=1), name="waiting")
    assert silent_workers(NOW) == []

    node("b:2", up_for=timedelta(hours=1))
    assert silent_workers(NOW) == [gone.id]


def test_however_long_a_lone_server_is_down_its_workers_wait_for_it(tenant: Tenant) -> None:
    node("a:1", up_for=timedelta(hours=1), seen_ago=timedelta(minutes=10))
    worker(tenant, "a:1", silent_for=timedelta(minutes=10))
    node("a:2", up_for=timedelta(seconds=3))

    assert silent_workers(NOW) == []


def test_a_worker_that_came_back_within_the_grace_keeps_what_it_holds(tenant: Tenant) -> None:
    went = NOW - timedelta(seconds=1)
    back = worker(tenant, "a:1", silent_for=timedelta(0))
    Worker.objects.filter(pk=back.pk).update(status=WorkerStatus.ACTIVE, disconnected_at=went)
    gone = worker(tenant, "a:1", silent_for=timedelta(0), name="gone")
    Worker.objects.filter(pk=gone.pk).update(status=WorkerStatus.DISCONNECTED, disconnected_at=went)

    release_unless_back(back.id, went)
    release_unless_back(gone.id, went)

    assert Worker.objects.get(pk=back.pk).status == WorkerStatus.ACTIVE
    assert Worker.objects.get(pk=gone.pk).status == WorkerStatus.STOPPED
