"""Malformed, oversized and unauthorised input on the worker socket: a precise error
each time, and the server keeps serving."""

import asyncio
import json
import socket
import uuid
from typing import Any

import httpx
import pytest
import websockets

from tests.e2e.live import LiveServer, WorkerFactory, run_detail, step_run
from tests.e2e.test_faults import receive, register_definitions, worker_socket

pytestmark = pytest.mark.e2e

MAX_BYTES = 4 * 1024 * 1024


async def reply_to(socket: Any, frame: str | bytes) -> dict[str, Any]:
    await socket.send(frame)
    return dict(json.loads(await asyncio.wait_for(socket.recv(), 10)))


def test_a_bad_token_is_refused(hatchet_server: LiveServer) -> None:
    async def scenario() -> int | None:
        socket = await websockets.connect(
            hatchet_server.url.replace("http", "ws") + "/ws/worker",
            additional_headers={"Authorization": "Bearer hct_not-a-real-token"},
        )
        error = json.loads(await socket.recv())
        assert error["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed):
            await socket.recv()
        return socket.close_code

    assert asyncio.run(scenario()) == 4401


def test_messages_before_register_are_refused(hatchet_server: LiveServer) -> None:
    async def scenario() -> dict[str, Any]:
        async with websockets.connect(
            hatchet_server.url.replace("http", "ws") + "/ws/worker",
            additional_headers={"Authorization": f"Bearer {hatchet_server.token}"},
        ) as socket:
            return await reply_to(socket, json.dumps({"type": "heartbeat"}))

    assert asyncio.run(scenario())["code"] == "not_registered"


def test_each_malformed_message_gets_its_error_and_the_socket_stays_open(
    hatchet_server: LiveServer, start_worker: WorkerFactory
) -> None:
    step = {"id": "m1", "step_run_id": str(uuid.uuid4()), "attempt": 1}
    cases: list[tuple[str | bytes, str, str]] = [
        ("{not json", "malformed_json", "not valid JSON"),
        (b"\x00\x01", "malformed_json", "text frames"),
        ("[1, 2]", "not_an_object", "JSON object"),
        (json.dumps({"id": "x"}), "missing_field", "'type'"),
        (json.dumps({"type": "step.teleport", "id": "t"}), "unknown_type", "step.teleport"),
        (json.dumps({"type": "labels"}), "missing_field", "'labels'"),
        (
            json.dumps({"type": "labels", "labels": {"gpu": [1]}}),
            "invalid_field",
            "at most 20 names to text, numbers, true or false",
        ),
        (
            json.dumps({"type": "labels", "labels": {f"l{i}": i for i in range(21)}}),
            "invalid_field",
            "at most 20",
        ),
        (json.dumps({"type": "heartbeat", "running": "all"}), "invalid_field", "'running'"),
        (
            json.dumps({"type": "heartbeat", "running": [{"step_run_id": "x", "attempt": 1}]}),
            "invalid_field",
            "a 'step_run_id' (a UUID string)",
        ),
        (
            json.dumps({"type": "heartbeat", "running": [{"step_run_id": step["step_run_id"]}]}),
            "invalid_field",
            "an 'attempt' (from 1)",
        ),
        (
            json.dumps({"type": "heartbeat", "running": [step, step]}),
            "invalid_field",
            "at most 1 (the worker's slots)",
        ),
        (json.dumps({"type": "step.started", "id": "m0"}), "missing_field", "'step_run_id'"),
        (
            json.dumps({"type": "step.started", "id": "m2", "step_run_id": "nope", "attempt": 1}),
            "invalid_field",
            "UUID",
        ),
        (
            json.dumps({**step, "type": "step.started", "attempt": "1"}),
            "invalid_field",
            "integer",
        ),
        (json.dumps({**step, "type": "step.started"}), "unknown_step_run", "Unknown step run"),
        ("[" * 100_000 + "]" * 100_000, "malformed_json", "nested too deeply"),
        (
            json.dumps({**step, "type": "step.log", "seq": 0, "message": "x" * MAX_BYTES}),
            "message_too_large",
            str(MAX_BYTES),
        ),
    ]

    async def scenario() -> list[dict[str, Any]]:
        socket = await worker_socket(hatchet_server, ["Quick:work"])
        replies = [await reply_to(socket, frame) for frame, _, _ in cases]
        await socket.send(json.dumps({"type": "heartbeat"}))
        await socket.close()
        return replies

    replies = asyncio.run(scenario())

    for reply, (_, code, text) in zip(replies, cases, strict=True):
        assert reply["type"] == "error"
        assert reply["code"] == code, reply
        assert text in reply["message"], reply
    assert replies[-3]["id"] == "m1"
    # The oversized message is answered by its id, so that its sender knows which it was.
    assert replies[-1]["id"] == "m1"
    # Still serving: health answers and a real run goes through.
    assert httpx.get(f"{hatchet_server.url}/healthz").status_code == 200
    start_worker("after-bad-input", slots=1)
    assert hatchet_server.client().admin.run_workflow("Quick", {"seconds": 0}).result(timeout=20)


def test_another_tenants_step_run_is_unknown_to_a_worker(hatchet_server: LiveServer) -> None:
    other_token = hatchet_server.manage(
        "create_api_token", "--tenant", "e2e-other", "--create-tenant", "--role", "worker"
    ).strip()

    async def scenario() -> dict[str, Any]:
        owner = await worker_socket(hatchet_server, ["FanOut:start"])
        await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "FanOut", {"n": 1})
        while (assign := json.loads(await asyncio.wait_for(owner.recv(), 20)))["type"] != (
            "step.assign"
        ):
            pass
        async with websockets.connect(
            hatchet_server.url.replace("http", "ws") + "/ws/worker",
            additional_headers={"Authorization": f"Bearer {other_token}"},
        ) as intruder:
            await intruder.send(
                json.dumps({"type": "register", "name": "intruder", "actions": [], "slots": 1})
            )
            await intruder.recv()
            reply = await reply_to(
                intruder,
                json.dumps(
                    {
                        "type": "step.completed",
                        "id": "steal",
                        "step_run_id": assign["step_run_id"],
                        "attempt": assign["attempt"],
                        "output": {"stolen": True},
                    }
                ),
            )
        await owner.close()
        return reply

    reply = asyncio.run(scenario())

    assert (reply["type"], reply["code"], reply["id"]) == ("error", "unknown_step_run", "steal")


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("poison", "problem"),
    [
        (
            {"text": "nul \u0000 here"},
            "Text may not hold the character U+0000 (NUL) (at output.text).",
        ),
        (
            {"deep": nested(150)},
            "Message is nested too deeply (JSON may be at most 100 levels deep).",
        ),
    ],
)
def test_a_result_that_cannot_be_stored_fails_its_own_step_and_the_rest_of_its_batch_is_applied(
    hatchet_server: LiveServer, poison: dict[str, Any], problem: str
) -> None:
    """U+0000 is refused on both backends alike (PostgreSQL cannot store it in JSON and
    text; SQLite could, and kept it); so is an output nested too deeply, by its id (it
    was refused without one, and the worker re-sent it forever)."""
    count, poisoned = 8, 3

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        socket = await worker_socket(hatchet_server, ["Quick:work"], slots=count)
        for _ in range(count):
            await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "Quick", {})
        assigns = [await receive(socket, "step.assign") for _ in range(count)]
        # Sent back to back, so that the server applies them in batches.
        for index, assign in enumerate(assigns):
            output: dict[str, Any] = {"n": index}
            if index == poisoned:
                output = poison
            await socket.send(
                json.dumps(
                    {"type": "step.completed", "id": f"c{index}", "output": output, **ids(assign)}
                )
            )
        replies: dict[str, dict[str, Any]] = {}
        while len(replies) < count:
            reply = json.loads(await asyncio.wait_for(socket.recv(), 20))
            if reply["type"] in ("ack", "error"):
                replies[reply["id"]] = reply
        # The socket still serves this worker.
        late = json.dumps({"type": "step.started", "id": "late", **ids(assigns[0])})
        after = await reply_to(socket, late)
        await socket.close()
        return assigns, [replies[f"c{i}"] for i in range(count)], after

    assigns, replies, after = asyncio.run(scenario())

    refusal = replies.pop(poisoned)
    assert (refusal["type"], refusal["code"]) == ("error", "cannot_store")
    assert refusal["message"] == f"The server could not store the step's output: {problem}"
    assert [(r["type"], r["applied"]) for r in replies] == [("ack", True)] * (count - 1)
    assert after == {"type": "ack", "id": "late", "applied": False}
    runs = [run_detail(hatchet_server, assign["workflow_run_id"]) for assign in assigns]
    failed = runs.pop(poisoned)
    assert failed["status"] == "FAILED"
    work = step_run(failed, "work")
    assert (work["status"], work["error"], work["retry_count"]) == (
        "FAILED",
        refusal["message"],
        0,
    )
    assert [run["status"] for run in runs] == ["SUCCEEDED"] * (count - 1)


def ids(assign: dict[str, Any]) -> dict[str, Any]:
    return {"step_run_id": assign["step_run_id"], "attempt": assign["attempt"]}


def test_a_worker_cannot_take_over_another_live_worker_by_its_id(
    hatchet_server: LiveServer,
) -> None:
    """Naming a live worker's id without its resume key registers a new worker: the
    live one keeps its work."""
    url = hatchet_server.url.replace("http", "ws") + "/ws/worker"
    headers = {"Authorization": f"Bearer {hatchet_server.token}"}
    register: dict[str, Any] = {"type": "register", "actions": ["Quick:work"], "slots": 1}

    async def scenario() -> tuple[str, str, dict[str, Any]]:
        await register_definitions(hatchet_server, register["actions"])
        owner = await websockets.connect(url, additional_headers=headers)
        await owner.send(json.dumps({**register, "name": "owner"}))
        owner_id = (await receive(owner, "registered"))["worker_id"]
        async with websockets.connect(url, additional_headers=headers) as thief:
            await thief.send(json.dumps({**register, "name": "thief", "worker_id": owner_id}))
            thief_id = (await receive(thief, "registered"))["worker_id"]
            await asyncio.to_thread(hatchet_server.client().admin.run_workflow, "Quick", {})
            assign = await receive(owner, "step.assign")
        done = {"type": "step.completed", "id": "c1", "output": {}, **ids(assign)}
        await owner.send(json.dumps(done))
        ack = await receive(owner, "ack")
        await owner.close()
        return owner_id, thief_id, ack

    owner_id, thief_id, ack = asyncio.run(scenario())

    assert thief_id != owner_id
    assert ack == {"type": "ack", "id": "c1", "applied": True}


def raw_request(server: LiveServer, head: bytes) -> bytes:
    """What the server sends back to `head` before it closes the connection."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_an_oversized_header_is_answered_431_and_the_server_keeps_serving(
    hatchet_server: LiveServer,
) -> None:
    header = b"Authorization: Bearer " + b"x" * 100 * 1024
    answer = raw_request(
        hatchet_server, b"GET /api/v1/runs HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n"
    )

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {
        "error": {
            "code": "headers_too_large",
            "message": "A request header is longer than 16384 bytes.",
            "details": {},
        }
    }
    assert httpx.get(f"{hatchet_server.url}/healthz").status_code == 200


def test_a_registration_with_unstorable_text_or_a_refresh_over_the_bound_is_refused(
    hatchet_server: LiveServer,
) -> None:
    registration: dict[str, Any] = {"type": "register", "actions": ["Quick:work"], "slots": 1}
    refresh = {
        "type": "step.refresh_timeout",
        "id": "r1",
        "step_run_id": str(uuid.uuid4()),
        "attempt": 1,
        "increment": "1" + "0" * 30 + "s",
    }
    frames = [
        json.dumps({**registration, "name": "w\u0000"}),
        json.dumps({**registration, "name": "w", "labels": {"zone": "\udc00"}}),
        "[" * 5_000 + "]" * 5_000,
    ]

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        await register_definitions(hatchet_server, registration["actions"])
        async with websockets.connect(
            hatchet_server.url.replace("http", "ws") + "/ws/worker",
            additional_headers={"Authorization": f"Bearer {hatchet_server.token}"},
        ) as socket:
            replies = [await reply_to(socket, frame) for frame in frames]
            await socket.send(json.dumps({**registration, "name": "w"}))
            await receive(socket, "registered")
            return replies, await reply_to(socket, json.dumps(refresh))

    replies, refused = asyncio.run(scenario())

    assert replies == [
        {
            "type": "error",
            "code": "invalid_text",
            "message": "Text may not hold the character U+0000 (NUL) (at name).",
        },
        {
            "type": "error",
            "code": "invalid_text",
            "message": "Text may not hold a lone surrogate (half of a UTF-16 pair) "
            "(at labels.zone).",
        },
        {
            "type": "error",
            "code": "malformed_json",
            "message": "Message is nested too deeply (JSON may be at most 100 levels deep).",
        },
    ]
    assert refused == {
        "type": "error",
        "code": "invalid_field",
        "message": f"duration '{refresh['increment']}' is too long: at most 365d",
        "id": "r1",
    }
