"""hatchet.rate_limits against an in-process httpx transport."""

import json

import pytest

from hatchet.sdk import NotFoundError
from tests.sdk.test_sdk_client import client_answering


def test_put_sends_the_key_its_limit_and_period():
    hatchet, requests = client_answering((201, {"id": "r1", "key": "llm"}))

    assert hatchet.rate_limits.put("llm", 60)["id"] == "r1"

    assert (requests[0].method, requests[0].url.path) == ("POST", "/api/v1/rate-limits")
    assert json.loads(requests[0].content) == {"key": "llm", "limit": 60, "period": "minute"}


def test_delete_finds_the_limit_by_its_key():
    hatchet, requests = client_answering(
        (200, {"results": [{"id": "r1", "key": "llm/eu"}], "next": None}), (204, None)
    )

    hatchet.rate_limits.delete("llm/eu")

    assert requests[0].url.params["key"] == "llm/eu"
    assert (requests[1].method, requests[1].url.path) == ("DELETE", "/api/v1/rate-limits/r1")


def test_a_key_that_is_not_there_is_not_found():
    hatchet, _ = client_answering((200, {"results": [], "next": None}))

    with pytest.raises(NotFoundError, match="No rate limit 'llm'"):
        hatchet.rate_limits.get("llm")
