"""The client socket on a live server: triggers and events as messages, each bad
request answered precisely while the socket keeps serving, and refusals."""

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from hatchet.sdk import NotFoundError
from tests.e2e.live import LiveServer, WorkerFactory, run_detail, wait_for_status

pytestmark = pytest.mark.e2e

MAX_BYTES = 4 * 1024 * 1024


def client_socket(server: LiveServer, token: str) -> ClientConnection:
    return connect(
        server.url.replace("http", "ws") + "/ws/client",
        additional_headers={"Authorization": f"Bearer {token}"},
        max_size=None,
    )


def ask(socket: ClientConnection, frame: str | bytes) -> dict[str, Any]:
    socket.send(frame)
    return dict(json.loads(socket.recv(timeout=10)))


def test_sdk_triggers_and_events_travel_on_the_socket_and_run(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("socket-client")
    with hatchet_server.client() as hatchet:
        run = hatchet.admin.run_workflow("FanOut", {"n": 3}, additional_metadata={"via": "ws"})
        bulk = hatchet.admin.run_workflows("FanOut", [{"input": {"n": n}} for n in range(3)])
        with pytest.raises(NotFoundError, match="'Missing' is not registered"):
            hatchet.admin.run_workflow("Missing")
        assert hatchet._socket.open is not None  # the calls went over the socket

        assert run.result(timeout=30)["join"] == {"sum": 15}
        assert [r.result(timeout=30)["join"]["sum"] for r in bulk] == [0, 3, 8]
    assert run_detail(hatchet_server, run.workflow_run_id)["additional_metadata"] == {"via": "ws"}


def test_each_bad_request_gets_its_error_and_the_socket_keeps_serving(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    start_worker("socket-bad-input")
    trigger = {"type": "run.trigger", "id": "t", "workflow": "FanOut"}
    cases: list[tuple[str | bytes, int | None, str, str]] = [
        ("{not json", None, "malformed_json", "not valid JSON"),
        (b"\x00\x01", None, "malformed_json", "text frames"),
        ("[1]", None, "not_an_object", "JSON object"),
        (json.dumps({"type": "run.delete", "id": "x"}), None, "unknown_type", "run.delete"),
        (json.dumps({"type": "run.trigger", "id": "y"}), None, "missing_field", "'workflow'"),
        (json.dumps({**trigger, "workflow": "Nope"}), 404, "not_found", "'Nope'"),
        (json.dumps({**trigger, "input": [1]}), 400, "invalid_request", "input"),
        (json.dumps({**trigger, "colour": "red"}), 400, "invalid_request", "colour"),
        (json.dumps({"type": "event.push", "id": "e", "key": ""}), 400, "invalid_request", "key"),
        ("x" * (MAX_BYTES + 1), None, "message_too_large", "at most"),
    ]
    with client_socket(hatchet_server, hatchet_server.token) as socket:
        for frame, status, code, words in cases:
            reply = ask(socket, frame)
            error = reply.get("error") or reply
            assert (reply["type"], reply.get("status"), error["code"]) == ("error", status, code)
            assert words in error["message"], (frame[:40], error)

        started = ask(socket, json.dumps({**trigger, "input": {"n": 2}}))

    assert (started["type"], started["id"]) == ("result", "t")
    assert started["body"]["workflow"] == "FanOut"
    done = wait_for_status(hatchet_server, started["body"]["id"], "SUCCEEDED")
    assert next(s for s in done["step_runs"] if s["step"] == "join")["output"] == {"sum": 8}


def test_a_bad_token_is_refused_at_the_handshake(hatchet_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        client_socket(hatchet_server, "hct_not-a-real-token")

    assert refused.value.response.status_code == 403
