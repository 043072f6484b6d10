"""The client's REST calls against an in-process httpx transport."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from hatchet.sdk import (
    AuthenticationError,
    Hatchet,
    HatchetConnectionError,
    InvalidRequestError,
    NotFoundError,
    WorkflowRun,
    WorkflowRunFailed,
)


def client_answering(*answers):
    """A Hatchet client whose server replies with `answers` in turn and records requests."""
    requests = []
    replies = list(answers)

    def handle(request):
        requests.append(request)
        status, body = replies.pop(0) if len(replies) > 1 else replies[0]
        return httpx.Response(status, json=body)

    hatchet = Hatchet("http://hatchet.test", token="secret")
    hatchet._http = httpx.Client(
        base_url=hatchet.server_url,
        headers=hatchet._http.headers,
        transport=httpx.MockTransport(handle),
    )
    # These tests are of the REST calls; the client socket has its own (test_sdk_socket).
    hatchet._socket.available = False
    return hatchet, requests


def body(request):
    return json.loads(request.content)


def run_detail(status, *step_runs):
    return {
        "id": "wr-1",
        "workflow": "SupportReply",
        "status": status,
        "step_runs": list(step_runs),
    }


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HATCHET_SERVER_URL", "http://10.0.0.5:9000/")
    monkeypatch.setenv("HATCHET_TOKEN", "from-env")
    hatchet = Hatchet()
    assert (hatchet.server_url, hatchet.token) == ("http://10.0.0.5:9000", "from-env")
    assert "from-env" not in repr(hatchet)


def test_run_workflow_posts_input_overrides_and_metadata_then_waits_for_outputs():
    hatchet, requests = client_answering(
        (201, run_detail("PENDING")),
        (200, run_detail("RUNNING")),
        (
            200,
            run_detail(
                "SUCCEEDED",
                {"id": "s1", "step": "draft", "status": "SUCCEEDED", "output": {"reply": "hi"}},
                {"id": "s2", "step": "review", "status": "SUCCEEDED", "output": None},
            ),
        ),
    )
    run = hatchet.admin.run_workflow(
        "SupportReply",
        {"ticket": "t"},
        overrides={"draft": {"system_prompt": "Be brief."}},
        additional_metadata={"source": "test"},
    )
    assert run.workflow_run_id == "wr-1"
    assert run.result(timeout=5) == {"draft": {"reply": "hi"}, "review": None}
    trigger = requests[0]
    assert (trigger.method, trigger.url.path) == ("POST", "/api/v1/workflows/SupportReply/runs")
    assert trigger.headers["Authorization"] == "Bearer secret"
    assert body(trigger) == {
        "input": {"ticket": "t"},
        "additional_metadata": {"source": "test"},
        "overrides": {"draft": {"system_prompt": "Be brief."}},
    }
    assert [r.url.path for r in requests[1:]] == ["/api/v1/runs/wr-1", "/api/v1/runs/wr-1"]


def test_result_of_a_failed_run_names_the_failed_steps():
    hatchet, _ = client_answering(
        (
            200,
            run_detail(
                "FAILED",
                {"step": "draft", "status": "SUCCEEDED", "output": {}, "error": None},
                {"step": "review", "status": "FAILED", "output": None, "error": "ValueError: no"},
            ),
        )
    )
    with pytest.raises(WorkflowRunFailed) as caught:
        WorkflowRun(hatchet, "wr-1").result()
    assert str(caught.value) == "workflow run wr-1 of SupportReply failed: review: ValueError: no"
    assert caught.value.errors == {"review": "ValueError: no"}
    assert caught.value.run_status == "FAILED"


def test_result_times_out():
    hatchet, _ = client_answering((200, run_detail("RUNNING")))
    with pytest.raises(TimeoutError, match=r"wr-1 has not finished after 0\.05 s"):
        WorkflowRun(hatchet, "wr-1").result(timeout=0.05)


def test_api_errors_carry_status_code_and_message():
    hatchet, _ = client_answering(
        (
            400,
            {
                "error": {
                    "code": "invalid_definition",
                    "message": "step 'b' has an unknown parent 'x'",
                    "details": {"step": "b"},
                }
            },
        )
    )
    with pytest.raises(InvalidRequestError) as caught:
        hatchet.admin.register_workflow({"name": "W", "steps": []})
    error = caught.value
    assert (error.status, error.code, error.details) == (400, "invalid_definition", {"step": "b"})
    assert error.message == "step 'b' has an unknown parent 'x'"
    assert str(error) == "step 'b' has an unknown parent 'x' (HTTP 400, invalid_definition)"


@pytest.mark.parametrize(
    ("status", "error_class"), [(401, AuthenticationError), (404, NotFoundError)]
)
def test_status_codes_map_to_error_classes(status, error_class):
    hatchet, _ = client_answering((status, {"error": {"code": "x", "message": "nope"}}))
    with pytest.raises(error_class, match="nope"):
        hatchet.admin.get_run("wr-1")


def test_unreachable_server_is_a_connection_error():
    def refuse(_request):
        raise httpx.ConnectError("connection refused")

    hatchet = Hatchet("http://hatchet.test", token="secret")
    hatchet._http = httpx.Client(base_url=hatchet.server_url, transport=httpx.MockTransport(refuse))
    hatchet._socket.available = False
    with pytest.raises(
        HatchetConnectionError, match=re.escape("cannot reach Hatchet at http://hatchet.test")
    ):
        hatchet.event.push("ticket:created", {})


def test_events_are_pushed_alone_or_in_a_batch():
    hatchet, requests = client_answering((201, {"id": "ev-1"}))
    assert hatchet.event.push("ticket:created", {"ticket": "t"}) == {"id": "ev-1"}
    hatchet.event.push_many([{"key": "a", "payload": {"n": 1}}, {"key": "b"}])
    assert [body(r) for r in requests] == [
        {"key": "ticket:created", "payload": {"ticket": "t"}, "additional_metadata": {}},
        {
            "events": [
                {"key": "a", "payload": {"n": 1}, "additional_metadata": {}},
                {"key": "b", "payload": {}, "additional_metadata": {}},
            ]
        },
    ]
    with pytest.raises(ValueError, match="each event needs a 'key'"):
        hatchet.event.push_many([{"payload": {}}])


def test_schedule_workflow_sends_the_time_in_utc():
    hatchet, requests = client_answering((201, {"id": "sch-1"}))
    at = datetime(2030, 1, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    hatchet.admin.schedule_workflow("SupportReply", at=at, input={"ticket": "t"})
    assert requests[0].url.path == "/api/v1/schedules"
    assert body(requests[0]) == {
        "workflow": "SupportReply",
        "trigger_at": datetime(2030, 1, 2, 10, 0, tzinfo=UTC).isoformat(),
        "input": {"ticket": "t"},
    }


def test_an_idempotency_key_travels_with_a_trigger_and_a_push():
    hatchet, requests = client_answering((201, run_detail("PENDING")), (201, {"id": "ev-1"}))

    hatchet.admin.run_workflow("SupportReply", {}, idempotency_key="order-7")
    hatchet.event.push("ticket:created", {}, idempotency_key="ticket-7")

    assert body(requests[0])["idempotency_key"] == "order-7"
    assert body(requests[1])["idempotency_key"] == "ticket-7"
