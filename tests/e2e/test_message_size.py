"""Results near and over the message limit: what the server takes is recorded, what it
cannot take fails its step with the reason, and the worker goes on serving."""

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import LiveServer, WorkerFactory, step_run, wait_for, wait_for_status

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def run_sized(server: LiveServer, size: int, **fields: Any) -> str:
    return server.client().admin.run_workflow("Sized", {"bytes": size, **fields}).workflow_run_id


def failed_for_its_size(server: LiveServer, run_id: str, limit: int) -> int:
    """The size the step's failure names, once the run failed for it after one attempt."""
    emit = step_run(wait_for_status(server, run_id, "FAILED", timeout=40), "emit")
    reason = re.fullmatch(
        rf"output too large: (\d+) bytes, the server takes at most {limit}", emit["error"]
    )
    assert reason is not None, emit["error"]
    assert [a["status"] for a in emit["attempts"]] == ["FAILED"]  # not retried
    return int(reason[1])


def test_an_output_under_the_limit_is_recorded_and_one_over_it_fails_its_step(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("sized-worker", slots=1)

    accepted = run_sized(hatchet_server, 2 * MIB)
    emit = step_run(wait_for_status(hatchet_server, accepted, "SUCCEEDED", timeout=40), "emit")
    assert emit["output"] == {"text": "x" * (2 * MIB)}

    refused = run_sized(hatchet_server, 5 * MIB)
    assert failed_for_its_size(hatchet_server, refused, 4 * MIB) > 5 * MIB

    after = run_sized(hatchet_server, 10)
    assert wait_for_status(hatchet_server, after, "SUCCEEDED", timeout=20)


def test_a_result_kept_while_the_server_was_down_fails_its_step_if_the_server_now_takes_less(
    hatchet_server: LiveServer, start_worker: WorkerFactory, markers: Path
) -> None:
    """The worker holds a 2 MiB result when the server comes back with a 1 MiB limit
    (as another server behind the same address could have): re-sent, it would be
    refused every time and hold up every result behind it."""
    start_worker("restart-worker", slots=1)
    release = markers / "release"
    kept = run_sized(hatchet_server, 2 * MIB, release=str(release), markers=str(markers))
    wait_for(lambda: list(markers.glob("started-*")), timeout=20)
    hatchet_server.stop()
    release.touch()
    wait_for(lambda: list(markers.glob("released-*")), timeout=10)
    time.sleep(0.5)  # the result is in the worker's outbox
    hatchet_server.env["HATCHET_MAX_MESSAGE_BYTES"] = str(MIB)
    try:
        hatchet_server.start()
        assert failed_for_its_size(hatchet_server, kept, MIB) > 2 * MIB
        after = run_sized(hatchet_server, 10)
        assert wait_for_status(hatchet_server, after, "SUCCEEDED", timeout=20)
    finally:
        hatchet_server.stop()
        del hatchet_server.env["HATCHET_MAX_MESSAGE_BYTES"]
        hatchet_server.start()
