"""Input no database stores alike, or that would exhaust the parser, is refused with a
precise 400 on both backends before anything is stored (issue 17, items 9-11)."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.jsontext import MAX_DEPTH
from hatchet.models import Tenant
from tests.factories import register, start_run
from workflows.models import CronTrigger, Event, WorkflowRun

pytestmark = pytest.mark.django_db

NUL = "Text may not hold the character U+0000 (NUL)"
SURROGATE = "Text may not hold a lone surrogate (half of a UTF-16 pair)"


def refusal(code: str, message: str, path: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": {"path": path} if path is not None else {},
        }
    }


def post(api: APIClient, url: str, body: str) -> Any:
    return api.post(url, body, content_type="application/json")


@pytest.mark.parametrize(
    ("url", "body", "message", "path"),
    [
        ("/api/v1/workflows/Chain/runs", r'{"input": {"ticket": "a\u0000b"}}', NUL, "input.ticket"),
        ("/api/v1/workflows/Chain/runs", r'{"input": {"a\u0000": 1}}', NUL, "input (a key)"),
        (
            "/api/v1/workflows/Chain/runs",
            r'{"input": {}, "additional_metadata": {"source": "\u0000"}}',
            NUL,
            "additional_metadata.source",
        ),
        (
            "/api/v1/workflows/Chain/runs",
            r'{"input": {"t": ["ok", "\ud800"]}}',
            SURROGATE,
            "input.t[1]",
        ),
        (
            "/api/v1/events",
            r'{"key": "ticket:created", "payload": {"x": "\u0000"}}',
            NUL,
            "payload.x",
        ),
        ("/api/v1/events", r'{"key": "\udfff"}', SURROGATE, "key"),
        (
            "/api/v1/crons",
            r'{"workflow": "Chain", "expression": "* * * * *", "name": "n\u0000"}',
            NUL,
            "name",
        ),
        (
            "/api/v1/alerts/rules",
            r'{"name": "n\u0000", "kind": "failed_runs", "emails": ["a@example.com"]}',
            NUL,
            "name",
        ),
    ],
)
def test_unstorable_text_in_a_body_is_refused_with_its_place(
    api: APIClient, tenant: Tenant, url: str, body: str, message: str, path: str
) -> None:
    register(tenant)

    response = post(api, url, body)

    assert response.status_code == 400
    assert response.json() == refusal("invalid_text", f"{message} (at {path}).", path)
    assert not WorkflowRun.objects.exists()
    assert not Event.objects.exists()
    assert not CronTrigger.objects.filter(name__startswith="n").exists()


def test_a_paired_surrogate_is_a_character_and_is_stored(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    response = post(api, "/api/v1/workflows/Chain/runs", r'{"input": {"mood": "\ud83d\ude00"}}')

    assert response.status_code == 201
    assert WorkflowRun.objects.get().input == {"mood": "\U0001f600"}


def test_an_escaped_backslash_before_u0000_is_plain_text(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    response = post(api, "/api/v1/workflows/Chain/runs", r'{"input": {"path": "C:\\u0000"}}')

    assert response.status_code == 201
    assert WorkflowRun.objects.get().input == {"path": "C:\\u0000"}


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 100_000])
def test_json_nested_too_deeply_is_refused(api: APIClient, tenant: Tenant, depth: int) -> None:
    register(tenant)
    # The input's object is one level, the body another.
    body = '{"input": {"deep": ' + "[" * (depth - 2) + "]" * (depth - 2) + "}}"

    response = post(api, "/api/v1/workflows/Chain/runs", body)

    assert response.status_code == 400
    assert response.json() == refusal(
        "malformed_json",
        f"The body is nested too deeply (JSON may be at most {MAX_DEPTH} levels deep).",
    )
    assert not WorkflowRun.objects.exists()


def test_json_nested_to_the_limit_is_taken(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    deep: Any = []
    for _ in range(MAX_DEPTH - 3):
        deep = [deep]

    response = post(api, "/api/v1/workflows/Chain/runs", json.dumps({"input": {"deep": deep}}))

    assert response.status_code == 201
    assert WorkflowRun.objects.get().input == {"deep": deep}


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/v1/workflows/Cha%00in", "the URL path"),
        ("/api/v1/runs/%00", "the URL path"),
        ("/api/v1/runs?workflow=Chain%00", "the query parameter workflow"),
        ("/api/v1/events?key%00=1", "a query parameter's name"),
    ],
)
def test_nul_in_a_url_is_refused(api: APIClient, tenant: Tenant, url: str, path: str) -> None:
    register(tenant)

    response = api.get(url)

    assert response.status_code == 400
    assert response.json() == refusal("invalid_text", f"{NUL} (at {path}).", path)


@pytest.mark.parametrize(
    ("url", "name", "description"),
    [
        ("/api/v1/runs/{run}/cancel", "Cancel", "Cancel the run; a finished run stays as it is."),
        ("/api/v1/runs/{run}/retry", "Retry", None),
        ("/api/v1/runs/{run}/replay", "Replay", None),
        ("/api/v1/workflows/Chain/runs", "Runs", "Trigger a run of the workflow's latest version."),
        ("/api/v1/crons/{cron}/pause", "Pause", None),
        ("/api/v1/crons/{cron}/resume", "Resume", None),
        ("/api/v1/events/{event}/replay", "Replay", None),
        ("/api/v1/schedules/{schedule}/cancel", "Cancel", None),
        ("/api/v1/runs", "Run List", ""),
    ],
)
def test_options_describes_every_route(
    api: APIClient, tenant: Tenant, url: str, name: str, description: str | None
) -> None:
    register(tenant, on_crons=["0 * * * *"])
    run = start_run(tenant)
    ids = {
        "run": run.pk,
        "cron": CronTrigger.objects.get().pk,
        "event": run.pk,
        "schedule": run.pk,
    }

    response = api.options(url.format(**ids))

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["parses"]) == (name, ["application/json"])
    if description is not None:
        assert body["description"] == description
