"""Idempotent triggers under concurrent retries, on a live server: many clients sending
the same trigger or push with one key at once get one run, one event."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.live import LiveServer, api_client, wait_for_status

pytestmark = pytest.mark.e2e

RETRIES = 8


def at_once(calls: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=calls) as pool:
        return list(pool.map(lambda _: call(), range(calls)))


def test_concurrent_retries_of_a_trigger_start_one_run(
    hatchet_server: LiveServer, start_worker: Any
) -> None:
    start_worker("idempotent-worker", slots=2)
    key = f"order-{uuid.uuid4()}"

    def trigger_over_rest() -> str:
        with api_client(hatchet_server.url, hatchet_server.token) as api:
            response = api.post("/workflows/Quick/runs", json={"input": {}, "idempotency_key": key})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

    def trigger_over_the_socket() -> str:
        with hatchet_server.client() as client:
            return client.admin.run_workflow("Quick", {}, idempotency_key=key).workflow_run_id

    run_ids = at_once(RETRIES, trigger_over_rest) + at_once(RETRIES, trigger_over_the_socket)

    assert len(set(run_ids)) == 1
    wait_for_status(hatchet_server, run_ids[0], "SUCCEEDED")


def test_concurrent_retries_of_a_push_store_one_event(hatchet_server: LiveServer) -> None:
    key = f"payment-{uuid.uuid4()}"

    def push() -> dict[str, Any]:
        with hatchet_server.client() as client:
            return client.event.push("payment:received", {"n": 1}, idempotency_key=key)

    events = at_once(RETRIES, push)

    assert len({event["id"] for event in events}) == 1
