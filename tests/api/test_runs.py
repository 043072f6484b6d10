"""GET /api/v1/runs, GET /api/v1/runs/{id}, POST /api/v1/runs/{id}/cancel and /retry."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import ScriptedWorker, member_client, register, start_run
from workflows.engine.events import NewEvent, push_events
from workflows.models import StepRun, WorkflowRun, WorkflowRunStatus

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def run_at(tenant: Tenant, when: datetime, status: str = "PENDING", name: str = "Chain") -> str:
    run = start_run(tenant, name)
    WorkflowRun.objects.filter(pk=run.pk).update(created_at=when, status=status)
    return str(run.id)


def ids(response: object) -> list[str]:
    return [item["id"] for item in response.json()["results"]]  # type: ignore[attr-defined]


def test_the_list_shows_runs_newest_first(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    older = run_at(tenant, NOON)
    newer = run_at(tenant, NOON + timedelta(hours=1), status="RUNNING")

    response = api.get("/api/v1/runs")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert response.json()["results"] == [
        {
            "id": newer,
            "workflow": "Chain",
            "status": "RUNNING",
            "created_at": "2025-05-01T13:00:00Z",
            "started_at": None,
            "finished_at": None,
            "trigger": "api",
            "priority": 1,
            "waiting_for": "",
            "concurrency_key": "",
            "event": None,
            "fire_time": None,
            "additional_metadata": {},
            "input_summary": '{"ticket":1}',
        },
        {
            "id": older,
            "workflow": "Chain",
            "status": "PENDING",
            "created_at": "2025-05-01T12:00:00Z",
            "started_at": None,
            "finished_at": None,
            "trigger": "api",
            "priority": 1,
            "waiting_for": "",
            "concurrency_key": "",
            "event": None,
            "fire_time": None,
            "additional_metadata": {},
            "input_summary": '{"ticket":1}',
        },
    ]


def test_the_list_filters_by_statuses_workflow_and_creation_time(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, "Chain")
    register(tenant, "Other")
    failed = run_at(tenant, NOON, "FAILED")
    running = run_at(tenant, NOON + timedelta(hours=1), "RUNNING")
    run_at(tenant, NOON + timedelta(hours=2), "SUCCEEDED")
    other = run_at(tenant, NOON + timedelta(hours=3), "FAILED", name="Other")

    assert ids(api.get("/api/v1/runs?status=FAILED,running")) == [other, running, failed]
    assert ids(api.get("/api/v1/runs?status=FAILED&workflow=Chain")) == [failed]
    assert ids(
        api.get(
            "/api/v1/runs",
            {"created_after": "2025-05-01T13:00:00Z", "created_before": "2025-05-01T14:00:00Z"},
        )
    ) == [running]
    assert ids(api.get("/api/v1/runs?workflow=Nope")) == []


def test_the_list_filters_by_event_and_metadata(api: APIClient, tenant: Tenant) -> None:
    register(tenant, on_events=["ticket:created"])
    [event] = push_events(
        tenant, [NewEvent("ticket:created", additional_metadata={"source": "web", "team": "b"})]
    )
    (from_event,) = event.runs.all()
    other = start_run(tenant, additional_metadata={"source": "api"})

    by_event = api.get(f"/api/v1/runs?event={event.id}")
    by_metadata = api.get("/api/v1/runs?metadata=source:web&metadata=team:b")
    bracketed = api.get("/api/v1/runs?metadata[source]=api")

    assert ids(by_event) == [str(from_event.id)]
    assert by_event.json()["results"][0]["event"] == str(event.id)
    assert by_event.json()["results"][0]["additional_metadata"] == {"source": "web", "team": "b"}
    assert ids(by_metadata) == [str(from_event.id)]
    assert ids(bracketed) == [str(other.id)]
    assert api.get("/api/v1/runs?metadata=nocolon").json()["error"]["message"] == (
        "metadata: 0: Use metadata=name:value."
    )
    assert api.get(f"/api/v1/runs/{from_event.id}").json()["event"] == str(event.id)


def test_a_bad_datetime_filter_is_400(api: APIClient) -> None:
    response = api.get("/api/v1/runs?created_after=yesterday")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"].startswith("created_after: Datetime has wrong format.")
    assert list(error["details"]) == ["created_after"]


def test_an_unknown_status_filter_is_400(api: APIClient) -> None:
    response = api.get("/api/v1/runs?status=DONE")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "status: Use PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, or several separated by "
        "commas."
    )


def test_the_list_is_paginated(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    newest_first = [run_at(tenant, NOON - timedelta(minutes=i)) for i in range(5)]

    first = api.get("/api/v1/runs?limit=2").json()
    last = api.get("/api/v1/runs?limit=2&offset=4").json()

    assert first["count"] == 5
    assert [r["id"] for r in first["results"]] == newest_first[:2]
    assert first["next"] == "http://testserver/api/v1/runs?limit=2&offset=2"
    assert first["previous"] is None
    assert [r["id"] for r in last["results"]] == newest_first[4:]
    assert last["next"] is None


def test_the_list_costs_the_same_queries_for_one_run_or_many(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    start_run(tenant)
    api.get("/api/v1/runs")  # records the token's use, which is written once a minute
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/runs")
    for _ in range(5):
        start_run(tenant)

    with CaptureQueriesContext(connection) as many:
        response = api.get("/api/v1/runs")

    assert response.json()["count"] == 6
    assert len(many) == len(one)


def test_another_tenant_sees_no_runs(tenant: Tenant, other_api: APIClient) -> None:
    register(tenant)
    run = start_run(tenant)

    assert other_api.get("/api/v1/runs").json()["results"] == []
    assert other_api.get(f"/api/v1/runs/{run.id}").status_code == 404
    assert other_api.post(f"/api/v1/runs/{run.id}/cancel").status_code == 404
    assert WorkflowRun.objects.get().status == WorkflowRunStatus.PENDING


def test_the_detail_shows_step_runs_with_their_attempts(api: APIClient, tenant: Tenant) -> None:
    register(tenant, steps=[{"name": "a", "retries": 1}, {"name": "b", "parents": ["a"]}])
    run = start_run(tenant, additional_metadata={"user": "u1"})
    worker = ScriptedWorker(tenant, name="box-1")
    worker.fail("Chain:a", "rate limited")
    StepRun.objects.filter(action="Chain:a").update(available_at=NOON)
    a = worker.complete("Chain:a", {"draft": "Hello"})

    response = api.get(f"/api/v1/runs/{run.id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["workflow"], body["version"], body["status"]) == (
        str(run.id),
        "Chain",
        1,
        "RUNNING",
    )
    assert (body["input"], body["additional_metadata"], body["overrides"]) == (
        {"ticket": 1},
        {"user": "u1"},
        {},
    )
    assert (body["trigger"], body["error"], body["finished_at"]) == ("api", "", None)
    step_a, step_b = body["step_runs"]
    assert step_a["id"] == str(a.id)
    assert (step_a["step"], step_a["action"], step_a["status"], step_a["parents"]) == (
        "a",
        "Chain:a",
        "SUCCEEDED",
        [],
    )
    assert (step_a["attempt"], step_a["retry_count"], step_a["output"]) == (
        2,
        1,
        {"draft": "Hello"},
    )
    assert step_a["worker_id"] == str(worker.id)
    assert [
        (x["number"], x["status"], x["error"], x["traceback"], x["worker_name"])
        for x in step_a["attempts"]
    ] == [
        (1, "FAILED", "rate limited", "Traceback: boom", "box-1"),
        (2, "SUCCEEDED", "", "", "box-1"),
    ]
    assert step_a["attempts"][0]["worker_id"] == str(worker.id)
    assert step_a["attempts"][0]["finished_at"] is not None
    assert (step_b["step"], step_b["status"], step_b["parents"], step_b["attempts"]) == (
        "b",
        "QUEUED",
        ["a"],
        [],
    )


def test_the_detail_costs_the_same_queries_for_1_step_or_5(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "One", steps=[{"name": "a"}])
    register(tenant, "Five", steps=[{"name": f"s{i}"} for i in range(5)])
    one = start_run(tenant, "One")
    five = start_run(tenant, "Five")
    worker = ScriptedWorker(tenant)
    worker.start("One:a")
    for i in range(5):
        worker.start(f"Five:s{i}")
    api.get("/api/v1/runs")  # records the token's use, which is written once a minute

    with CaptureQueriesContext(connection) as one_step:
        assert len(api.get(f"/api/v1/runs/{one.id}").json()["step_runs"]) == 1
    with CaptureQueriesContext(connection) as five_steps:
        assert len(api.get(f"/api/v1/runs/{five.id}").json()["step_runs"]) == 5

    assert len(five_steps) == len(one_step)


def test_an_unknown_or_malformed_run_id_is_404(api: APIClient) -> None:
    unknown = api.get("/api/v1/runs/00000000-0000-0000-0000-000000000000")
    malformed = api.get("/api/v1/runs/not-a-uuid")
    malformed_cancel = api.post("/api/v1/runs/not-a-uuid/cancel")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    for response in (malformed, malformed_cancel):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_cancelling_stops_every_open_step_run(api: APIClient, tenant: Tenant) -> None:
    register(
        tenant,
        steps=[
            {"name": "done"},
            {"name": "running"},
            {"name": "queued"},
            {"name": "pending", "parents": ["running"]},
        ],
    )
    run = start_run(tenant)
    worker = ScriptedWorker(tenant)
    worker.complete("Chain:done", "ok")
    worker.start("Chain:running")

    response = api.post(f"/api/v1/runs/{run.id}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error"]) == ("CANCELLED", "Cancelled.")
    assert body["finished_at"] is not None
    assert {s["step"]: s["status"] for s in body["step_runs"]} == {
        "done": "SUCCEEDED",
        "running": "CANCELLED",
        "queued": "CANCELLED",
        "pending": "CANCELLED",
    }
    running = next(s for s in body["step_runs"] if s["step"] == "running")
    assert [(x["status"], x["error"]) for x in running["attempts"]] == [
        ("CANCELLED", "stopped: cancelled")
    ]
    assert set(StepRun.objects.values_list("status", flat=True)) == {"SUCCEEDED", "CANCELLED"}


def test_cancelling_a_finished_run_changes_nothing(api: APIClient, tenant: Tenant) -> None:
    register(tenant, steps=[{"name": "a"}])
    run = start_run(tenant)
    ScriptedWorker(tenant).complete("Chain:a", 1)

    response = api.post(f"/api/v1/runs/{run.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "SUCCEEDED"
    assert response.json()["step_runs"][0]["status"] == "SUCCEEDED"


def test_a_viewer_cannot_cancel(tenant: Tenant) -> None:
    register(tenant)
    run = start_run(tenant)
    viewer = member_client(tenant, "viewer")

    response = viewer.post(f"/api/v1/runs/{run.id}/cancel")

    assert response.status_code == 403
    assert WorkflowRun.objects.get().status == WorkflowRunStatus.PENDING
    assert viewer.get(f"/api/v1/runs/{run.id}").status_code == 200


def test_retry_runs_a_failed_run_again_from_the_steps_that_did_not_succeed(
    api: APIClient, tenant: Tenant
) -> None:
    register(
        tenant,
        timeout="10m",
        steps=[
            {"name": "done"},
            {"name": "broken", "retries": 1},
            {"name": "after", "parents": ["broken"]},
        ],
    )
    run = start_run(tenant)
    worker = ScriptedWorker(tenant)
    worker.complete("Chain:done", "kept")
    worker.fail("Chain:broken", "first")
    StepRun.objects.filter(action="Chain:broken").update(available_at=NOON)
    worker.fail("Chain:broken", "second")
    assert WorkflowRun.objects.get().status == WorkflowRunStatus.FAILED

    before = timezone.now()
    response = api.post(f"/api/v1/runs/{run.id}/retry")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error"], body["finished_at"]) == ("RUNNING", "", None)
    # The workflow's timeout applies to the retried run anew.
    deadline = WorkflowRun.objects.get().deadline
    assert deadline is not None
    assert before + timedelta(minutes=10) <= deadline <= timezone.now() + timedelta(minutes=10)
    steps = {s["step"]: s for s in body["step_runs"]}
    assert {name: s["status"] for name, s in steps.items()} == {
        "done": "SUCCEEDED",
        "broken": "QUEUED",
        "after": "PENDING",
    }
    assert steps["done"]["output"] == "kept"
    assert (steps["broken"]["retry_count"], steps["broken"]["error"]) == (0, "")
    assert [x["error"] for x in steps["broken"]["attempts"]] == ["first", "second"]

    third = worker.complete("Chain:broken", "fixed")
    worker.complete("Chain:after", "done")

    assert third.attempt == 3
    assert WorkflowRun.objects.get().status == WorkflowRunStatus.SUCCEEDED


def test_retry_refuses_a_run_that_has_not_failed(api: APIClient, tenant: Tenant) -> None:
    register(tenant, steps=[{"name": "a"}])
    run = start_run(tenant)

    response = api.post(f"/api/v1/runs/{run.id}/retry")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"status": "PENDING"}
    assert member_client(tenant, "viewer").post(f"/api/v1/runs/{run.id}/retry").status_code == 403


def test_bulk_trigger_starts_every_run_in_one_go(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    response = api.post(
        "/api/v1/workflows/Chain/runs/bulk",
        {"runs": [{"input": {"n": n}} for n in range(3)] + [{}]},
        format="json",
    )

    assert response.status_code == 201
    created = [run["id"] for run in response.json()["runs"]]
    assert [run["status"] for run in response.json()["runs"]] == ["PENDING"] * 4
    runs = {str(run.id): run for run in WorkflowRun.objects.filter(tenant=tenant)}
    assert sorted(created) == sorted(runs)
    assert [runs[run_id].input for run_id in created] == [{"n": 0}, {"n": 1}, {"n": 2}, {}]
    assert StepRun.objects.filter(status="QUEUED").count() == 4


def test_bulk_trigger_is_all_or_nothing_and_bounded(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    bad_override = api.post(
        "/api/v1/workflows/Chain/runs/bulk",
        {"runs": [{"input": {}}, {"overrides": {"ghost": {"x": 1}}}]},
        format="json",
    )
    too_many = api.post("/api/v1/workflows/Chain/runs/bulk", {"runs": [{}] * 1001}, format="json")
    empty = api.post("/api/v1/workflows/Chain/runs/bulk", {"runs": []}, format="json")

    assert bad_override.status_code == 400
    assert bad_override.json()["error"]["message"] == (
        "overrides name unknown step(s) of Chain: ghost."
    )
    assert too_many.status_code == 400
    assert "1000" in too_many.json()["error"]["message"]
    assert empty.status_code == 400
    assert not WorkflowRun.objects.exists()


def test_replay_from_a_step_reuses_the_outputs_before_it(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    source = start_run(tenant)
    worker = ScriptedWorker(tenant)
    worker.complete("Chain:a", {"drafted": True})
    worker.complete("Chain:b", "b-out")

    response = api.post(f"/api/v1/runs/{source.id}/replay", {"from_step": "b"}, format="json")

    assert response.status_code == 201
    replay = response.json()
    assert replay["id"] != str(source.id)
    assert replay["input"] == {"ticket": 1}
    steps = {s["step"]: (s["status"], s["output"]) for s in replay["step_runs"]}
    assert steps == {
        "a": ("SUCCEEDED", {"drafted": True}),
        "b": ("QUEUED", None),
        "c": ("PENDING", None),
    }


def test_replay_refuses_unknown_steps_and_other_tenants_runs(
    api: APIClient, other_api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    source = start_run(tenant)

    unknown = api.post(f"/api/v1/runs/{source.id}/replay", {"from_step": "z"}, format="json")
    foreign = other_api.post(f"/api/v1/runs/{source.id}/replay", {}, format="json")

    assert unknown.status_code == 400
    assert "z" in unknown.json()["error"]["message"]
    assert foreign.status_code == 404
    assert WorkflowRun.objects.count() == 1


def test_a_metadata_filter_the_schema_accepts_is_not_refused(api: APIClient) -> None:
    """A name that starts with what Python's strip() takes for whitespace (schemathesis
    found "\\x1f:...") matches the schema's pattern and must not be trimmed into one
    that does not."""
    response = api.get("/api/v1/runs", {"metadata": "\x1f:\x04;"})

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_a_retried_trigger_with_its_idempotency_key_answers_the_first_run(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    first = api.post("/api/v1/workflows/Chain/runs", {"idempotency_key": "k1"}, format="json")
    again = api.post(
        "/api/v1/workflows/Chain/runs", {"input": {"n": 2}, "idempotency_key": "k1"}, format="json"
    )
    too_long = api.post(
        "/api/v1/workflows/Chain/runs", {"idempotency_key": "k" * 256}, format="json"
    )

    assert again.json()["id"] == first.json()["id"]
    assert again.json()["input"] == {}
    assert too_long.status_code == 400
    assert "idempotency_key" in too_long.json()["error"]["details"]
