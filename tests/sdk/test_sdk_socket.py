"""The client socket against in-process websocket servers: answers, errors, drops,
refusals, and REST for servers that have no such socket."""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from bench.livestack import free_port
from hatchet.sdk import AuthenticationError, Hatchet, HatchetConnectionError, NotFoundError

Handler = Callable[[ServerConnection], None]


@contextmanager
def socket_server(
    handler: Handler, status: int | None = None
) -> Iterator[tuple[Hatchet, list[dict[str, Any]]]]:
    """A websocket server on loopback running `handler` per connection (or refusing the
    upgrade with `status`), and a client pointed at it."""
    seen: list[dict[str, Any]] = []

    def refuse(connection: ServerConnection, request: Request) -> Response | None:
        seen.append({"path": request.path, "authorization": request.headers.get("Authorization")})
        if status is None:
            return None
        return connection.respond(status, "refused\n")

    port = free_port()
    with serve(handler, "127.0.0.1", port, process_request=refuse) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        hatchet = Hatchet(f"http://127.0.0.1:{port}", token="secret", timeout=5)
        try:
            yield hatchet, seen
        finally:
            hatchet.close()
            server.shutdown()


def answering(reply: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    def handle(connection: ServerConnection) -> None:
        for text in connection:
            request = json.loads(text)
            connection.send(json.dumps({"id": request["id"], **reply(request)}))

    return handle


def test_a_trigger_is_one_message_on_one_lasting_connection() -> None:
    requests: list[dict[str, Any]] = []

    def reply(request: dict[str, Any]) -> dict[str, Any]:
        requests.append(request)
        return {"type": "result", "body": {"id": f"run-{len(requests)}", "status": "PENDING"}}

    with socket_server(answering(reply)) as (hatchet, seen):
        first = hatchet.admin.run_workflow("Support", {"t": 1}, additional_metadata={"a": "b"})
        second = hatchet.admin.run_workflow("Support", {"t": 2})
        pushed = hatchet.event.push("ticket:created", {"t": 3})

    assert (first.workflow_run_id, second.workflow_run_id) == ("run-1", "run-2")
    assert pushed == {"id": "run-3", "status": "PENDING"}
    assert seen == [{"path": "/ws/client", "authorization": "Bearer secret"}]
    assert [r["type"] for r in requests] == ["run.trigger", "run.trigger", "event.push"]
    assert requests[0] == {
        "type": "run.trigger",
        "id": requests[0]["id"],
        "workflow": "Support",
        "input": {"t": 1},
        "additional_metadata": {"a": "b"},
        "overrides": {},
    }
    assert len({r["id"] for r in requests}) == 3


def test_answers_may_come_in_any_order_from_many_threads() -> None:
    def handle(connection: ServerConnection) -> None:
        held = [json.loads(connection.recv()) for _ in range(8)]
        for request in reversed(held):
            body = {"id": f"run-{request['input']['n']}"}
            connection.send(json.dumps({"type": "result", "id": request["id"], "body": body}))

    with socket_server(handle) as (hatchet, _):
        results: dict[int, str] = {}

        def trigger(n: int) -> None:
            results[n] = hatchet.admin.run_workflow("Support", {"n": n}).workflow_run_id

        threads = [threading.Thread(target=trigger, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)

    assert results == {n: f"run-{n}" for n in range(8)}


def test_an_error_answer_is_the_sdk_error_of_its_status() -> None:
    def reply(_request: dict[str, Any]) -> dict[str, Any]:
        error = {"code": "not_found", "message": "Workflow 'Nope' is not registered."}
        return {"type": "error", "status": 404, "error": {**error, "details": {"w": 1}}}

    with socket_server(answering(reply)) as (hatchet, _), pytest.raises(NotFoundError) as caught:
        hatchet.admin.run_workflow("Nope")

    assert (caught.value.status, caught.value.code, caught.value.details) == (
        404,
        "not_found",
        {"w": 1},
    )
    assert caught.value.message == "Workflow 'Nope' is not registered."


def test_a_drop_before_the_answer_says_so_and_the_next_call_reconnects() -> None:
    connections = []

    def handle(connection: ServerConnection) -> None:
        connections.append(connection)
        request = json.loads(connection.recv())
        if len(connections) == 1:
            connection.close()
            return
        connection.send(json.dumps({"type": "result", "id": request["id"], "body": {"id": "r"}}))

    with socket_server(handle) as (hatchet, _):
        with pytest.raises(HatchetConnectionError, match="may or may not have been applied"):
            hatchet.admin.run_workflow("Support")
        assert hatchet.admin.run_workflow("Support").workflow_run_id == "r"

    assert len(connections) == 2


def test_a_refused_token_is_an_authentication_error() -> None:
    with (
        socket_server(answering(lambda _r: {}), status=403) as (hatchet, _),
        pytest.raises(AuthenticationError),
    ):
        hatchet.event.push("a")


@pytest.mark.usefixtures("monkeypatch")
def test_a_server_without_the_socket_is_called_over_rest() -> None:
    posted: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(201, json={"id": "rest-run"})

    with socket_server(answering(lambda _r: {}), status=404) as (hatchet, seen):
        hatchet._http = httpx.Client(
            base_url=hatchet.server_url, transport=httpx.MockTransport(handle)
        )
        first = hatchet.admin.run_workflow("Support", {"t": 1})
        second = hatchet.admin.run_workflow("Support", {"t": 2})

    assert (first.workflow_run_id, second.workflow_run_id) == ("rest-run", "rest-run")
    assert len(seen) == 1  # asked once; REST from then on
    assert [p.url.path for p in posted] == ["/api/v1/workflows/Support/runs"] * 2
    assert json.loads(posted[0].content) == {
        "input": {"t": 1},
        "additional_metadata": {},
        "overrides": {},
    }


def test_an_unreachable_server_is_a_connection_error() -> None:
    hatchet = Hatchet(f"http://127.0.0.1:{free_port()}", token="secret")
    with pytest.raises(HatchetConnectionError, match=r"cannot reach Hatchet at ws://127\.0\.0\.1"):
        hatchet.admin.run_workflow("Support")
