"""Bad frames and paths on the client and live sockets get a precise answer on both
backends, and the socket keeps serving (issue 17, items 9 and 10); the worker
socket's, whose dispatcher outlives a test's event loop, are in
tests/e2e/test_bad_input.py."""

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from hatchet.jsontext import MAX_DEPTH
from hatchet.models import Tenant
from tests.factories import open_socket, register
from workflows.models import Event, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)

DASHES = "-" * 36
TOO_DEEP = f"is nested too deeply (JSON may be at most {MAX_DEPTH} levels deep)."
NUL = "Text may not hold the character U+0000 (NUL)"


@pytest.mark.parametrize(
    "path",
    [
        f"/ws/runs/{DASHES}",
        f"/ws/playground/compare/{DASHES}",
        f"/ws/playground/pull-requests/{DASHES}",
    ],
)
def test_a_live_socket_for_an_id_that_is_no_uuid_closes_4404(tenant: Tenant, path: str) -> None:
    async def scenario() -> dict[str, Any]:
        socket = await open_socket(tenant, path)
        closed: dict[str, Any] = await socket.receive_output(timeout=5)
        await socket.wait()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4404}


def exchange(tenant: Tenant, path: str, frames: list[str]) -> list[dict[str, Any]]:
    async def scenario() -> list[dict[str, Any]]:
        socket = await open_socket(tenant, path)
        replies = []
        for frame in frames:
            await socket.send_to(text_data=frame)
            replies.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return replies

    return async_to_sync(scenario)()


def test_the_client_socket_answers_deep_and_unstorable_frames_and_keeps_serving(
    tenant: Tenant,
) -> None:
    register(tenant)
    trigger = {"type": "run.trigger", "id": "t1", "workflow": "Chain"}
    frames = [
        "[" * 5_000 + "]" * 5_000,
        '{"type": "run.trigger", "id": "t0", "workflow": "Chain", "input": '
        + "[" * MAX_DEPTH
        + "]" * MAX_DEPTH
        + "}",
        json.dumps({**trigger, "input": {"ticket": "a\u0000b"}}),
        json.dumps({"type": "event.push", "id": "e1", "key": "\ud800"}),
        json.dumps({**trigger, "id": "t2", "input": {"ticket": 1}}),
    ]

    replies = exchange(tenant, "/ws/client", frames)

    assert replies[:4] == [
        {"type": "error", "code": "malformed_json", "message": f"Message {TOO_DEEP}"},
        # It parsed: answered by its id.
        {"type": "error", "code": "malformed_json", "message": f"Message {TOO_DEEP}", "id": "t0"},
        {
            "type": "error",
            "code": "invalid_text",
            "message": f"{NUL} (at input.ticket).",
            "id": "t1",
        },
        {
            "type": "error",
            "code": "invalid_text",
            "message": "Text may not hold a lone surrogate (half of a UTF-16 pair) (at key).",
            "id": "e1",
        },
    ]
    assert (replies[4]["type"], replies[4]["id"]) == ("result", "t2")
    assert [run.input for run in WorkflowRun.objects.all()] == [{"ticket": 1}]
    assert not Event.objects.exists()
