"""The run socket: a viewer that joins while a step streams gets every line exactly
once, whether the snapshot or an update brings it."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from hatchet.models import Tenant
from tests.factories import open_socket, register, start_run
from workflows import consumers
from workflows.engine.results import append_step_run_line
from workflows.live import SETTLED_SECONDS
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def line_keys(lines: list[dict[str, Any]]) -> list[tuple[str, int, str, int]]:
    return [(line["step_run_id"], line["attempt"], line["kind"], line["seq"]) for line in lines]


def test_a_viewer_joining_mid_stream_gets_each_line_once(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(tenant)
    run = start_run(tenant)
    step_run = StepRun.objects.get(workflow_run=run, step__name="a")

    def stream(seq: int, text: str, kind: str = "stream") -> None:
        append_step_run_line(tenant.id, step_run.id, 1, kind, seq, text)

    stream(0, "Thanks ")
    stream(1, "for ")
    read_snapshot = consumers.run_snapshot

    def snapshot_while_streaming(tenant_id: Any, run_id: str) -> dict[str, Any] | None:
        # A chunk stored after the viewer joined the run's group, before its snapshot
        # is read: the snapshot holds it, and its update waits in the group's queue.
        stream(2, "writing ")
        return read_snapshot(tenant_id, run_id)

    monkeypatch.setattr(consumers, "run_snapshot", snapshot_while_streaming)
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/runs/{run.pk}")
        received.append(await socket.receive_json_from(timeout=5))
        await database_sync_to_async(stream)(3, "drafted", "log")
        await database_sync_to_async(stream)(4, "in.")
        while not received or received[-1].get("seq") != 4:
            received.append(await socket.receive_json_from(timeout=5))
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    async_to_sync(watch)()

    snapshot, *updates = received
    assert snapshot["type"] == "run.snapshot"
    lines = snapshot["lines"] + [u for u in updates if u["type"] == "step_run.line"]
    sr = str(step_run.id)
    assert line_keys(lines) == [
        (sr, 1, "stream", 0),
        (sr, 1, "stream", 1),
        (sr, 1, "stream", 2),
        (sr, 1, "log", 3),
        (sr, 1, "stream", 4),
    ]
    assert "".join(line["text"] for line in lines if line["kind"] == "stream") == (
        "Thanks for writing in."
    )


def test_a_viewer_gets_its_run_again_once_every_process_sees_its_mark(tenant: Tenant) -> None:
    """With Redis, a process sends the updates of the runs marked in its copy of the
    marks, which a new watcher's mark reaches within a moment: what changed unsent in
    that moment (here, a change no update announced) arrives as the run read again; a
    run that did not change is not sent again."""
    if not settings.REDIS_URL:
        pytest.skip("one process, which knows its own sockets at once")
    register(tenant)
    changed, unchanged = start_run(tenant), start_run(tenant)

    async def watch(run: WorkflowRun, change: bool) -> list[dict[str, Any]]:
        socket = await open_socket(tenant, f"/ws/runs/{run.pk}")
        received = [await socket.receive_json_from(timeout=5)]
        if change:
            await database_sync_to_async(WorkflowRun.objects.filter(pk=run.pk).update)(
                status="CANCELLED"
            )
            received.append(await socket.receive_json_from(timeout=SETTLED_SECONDS + 2))
        assert await socket.receive_nothing(timeout=SETTLED_SECONDS + 0.5)
        await socket.disconnect()
        return received

    first, again = async_to_sync(watch)(changed, True)
    assert (first["type"], first["status"]) == ("run.snapshot", "PENDING")
    assert (again["type"], again["status"]) == ("run.snapshot", "CANCELLED")
    [only] = async_to_sync(watch)(unchanged, False)
    assert (only["type"], only["status"]) == ("run.snapshot", "PENDING")
