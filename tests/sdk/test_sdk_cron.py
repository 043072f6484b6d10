"""hatchet.cron against an in-process httpx transport."""

import json

import pytest

from hatchet.sdk import InvalidRequestError
from tests.sdk.test_sdk_client import client_answering


def test_create_sends_the_cron_and_its_time_zone():
    hatchet, requests = client_answering((201, {"id": "c1"}))

    hatchet.cron.create(
        "Report", "0 9 * * 1", {"kind": "weekly"}, name="monday", timezone="Europe/Paris"
    )

    assert (requests[0].method, requests[0].url.path) == ("POST", "/api/v1/crons")
    assert json.loads(requests[0].content) == {
        "workflow": "Report",
        "expression": "0 9 * * 1",
        "name": "monday",
        "timezone": "Europe/Paris",
        "input": {"kind": "weekly"},
        "additional_metadata": {},
    }


def test_list_follows_every_page():
    hatchet, requests = client_answering(
        (200, {"results": [{"id": "c1"}], "next": "http://hatchet.test/api/v1/crons?offset=1"}),
        (200, {"results": [{"id": "c2"}], "next": None}),
    )

    assert [c["id"] for c in hatchet.cron.list("Report")] == ["c1", "c2"]
    assert requests[0].url.params["workflow"] == "Report"


def test_pause_resume_and_delete_call_the_cron():
    hatchet, requests = client_answering((200, {"id": "c1"}))

    hatchet.cron.pause("c1")
    hatchet.cron.resume("c1")
    hatchet.cron.delete("c1")

    assert [(r.method, r.url.path) for r in requests] == [
        ("POST", "/api/v1/crons/c1/pause"),
        ("POST", "/api/v1/crons/c1/resume"),
        ("DELETE", "/api/v1/crons/c1"),
    ]


def test_a_bad_expression_raises_the_servers_message():
    error = {"code": "invalid_request", "message": "Invalid cron expression 'x'.", "details": {}}
    hatchet, _ = client_answering((400, {"error": error}))

    with pytest.raises(InvalidRequestError, match=r"Invalid cron expression 'x'\."):
        hatchet.cron.create("Report", "x")
