"""GET/POST /api/v1/workflows, GET /api/v1/workflows/{name}, POST .../{name}/runs."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import definition, member_client, register, start_run
from workflows.models import Step, StepRun, StepRunStatus, Workflow, WorkflowRun, WorkflowVersion

pytestmark = pytest.mark.django_db


def test_registering_a_definition_creates_version_1(api: APIClient, tenant: Tenant) -> None:
    response = api.post("/api/v1/workflows", definition(), format="json")

    assert response.status_code == 201
    version = WorkflowVersion.objects.get(workflow__tenant=tenant, workflow__name="Chain")
    assert response.json() == {
        "workflow": "Chain",
        "id": str(version.workflow_id),
        "version": 1,
        "created": True,
        "checksum": version.checksum,
    }
    assert list(Step.objects.filter(version=version).values_list("action", "parents")) == [
        ("Chain:a", []),
        ("Chain:b", ["a"]),
        ("Chain:c", ["b"]),
    ]


def test_registering_the_same_definition_again_keeps_one_version(api: APIClient) -> None:
    first = api.post("/api/v1/workflows", definition(), format="json").json()

    response = api.post("/api/v1/workflows", definition(), format="json")

    assert response.status_code == 200
    assert response.json() == {**first, "created": False}
    assert WorkflowVersion.objects.count() == 1


def test_a_changed_definition_makes_version_2(api: APIClient) -> None:
    first = api.post("/api/v1/workflows", definition(), format="json").json()
    changed = definition(steps=[{"name": "a", "parents": [], "retries": 2}])

    response = api.post("/api/v1/workflows", changed, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["created"], body["id"]) == (2, True, first["id"])
    assert body["checksum"] != first["checksum"]
    assert list(WorkflowVersion.objects.values_list("number", flat=True)) == [2, 1]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [{"name": "a", "parents": ["missing"]}],
            "Step 'a' has unknown parent 'missing'.",
        ),
        (
            [{"name": "a", "parents": ["b"]}, {"name": "b", "parents": ["a"]}],
            "Steps form a cycle (each waits for the next): a -> b -> a.",
        ),
        (
            [{"name": "a"}, {"name": "a"}],
            "Duplicate step 'a'.",
        ),
        (
            [{"name": "a", "timeout": "10 minutes"}],
            "Step 'a': timeout: invalid duration '10 minutes': use an integer followed by "
            "ms, s, m, h or d (e.g. '500ms', '30s', '10m', '1h', '2d')",
        ),
        (
            [{"name": "a", "retries": -1}],
            "Step 'a': retries must not be negative (got -1).",
        ),
    ],
    ids=["unknown-parent", "cycle", "duplicate-step", "bad-timeout", "negative-retries"],
)
def test_an_invalid_definition_is_refused_with_its_problem(
    api: APIClient, steps: list[dict[str, Any]], message: str
) -> None:
    response = api.post("/api/v1/workflows", definition(steps=steps), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_definition"
    assert response.json()["error"]["message"] == message
    assert not WorkflowVersion.objects.exists()


def test_a_viewer_cannot_register(tenant: Tenant) -> None:
    viewer = member_client(tenant, "viewer")

    response = viewer.post("/api/v1/workflows", definition(), format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "This needs the editor role.",
            "details": {},
        }
    }
    assert not Workflow.objects.exists()


def test_an_editor_can_register(tenant: Tenant) -> None:
    editor = member_client(tenant, "editor")

    response = editor.post("/api/v1/workflows", definition(), format="json")

    assert response.status_code == 201


def test_the_list_shows_the_latest_version_and_its_step_count(
    api: APIClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    register(tenant, "Chain")
    register(tenant, "Chain", steps=[{"name": "only"}])
    register(tenant, "Alone", steps=[{"name": "x"}, {"name": "y"}])
    register(other_tenant, "Secret")

    response = api.get("/api/v1/workflows")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(w["name"], w["latest_version"], w["step_count"]) for w in body["results"]] == [
        ("Alone", 1, 2),
        ("Chain", 2, 1),
    ]
    chain = Workflow.objects.get(tenant=tenant, name="Chain")
    assert body["results"][1]["id"] == str(chain.id)
    assert body["results"][1]["created_at"] == chain.created_at.isoformat().replace("+00:00", "Z")


def test_another_tenant_sees_no_workflows(tenant: Tenant, other_api: APIClient) -> None:
    register(tenant)

    assert other_api.get("/api/v1/workflows").json()["results"] == []
    assert other_api.get("/api/v1/workflows/Chain").status_code == 404


def test_the_detail_shows_versions_steps_triggers_and_recent_runs(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, steps=[{"name": "a"}])
    v2 = register(
        tenant,
        on_events=["ticket:created"],
        on_crons=["*/15 * * * *"],
        steps=[
            {"name": "draft", "timeout": "30s", "retries": 3},
            {"name": "send", "parents": ["draft"], "schedule_timeout": "1m"},
        ],
    )
    runs = [start_run(tenant) for _ in range(11)]

    response = api.get("/api/v1/workflows/Chain")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["latest_version"]) == ("Chain", 2)
    assert [(v["number"], v["checksum"]) for v in body["versions"]] == [
        (2, v2.checksum),
        (1, WorkflowVersion.objects.get(number=1).checksum),
    ]
    assert body["versions"][0]["definition"] == v2.definition
    assert body["steps"] == [
        {
            "name": "draft",
            "action": "Chain:draft",
            "parents": [],
            "timeout_seconds": 30.0,
            "schedule_timeout_seconds": 300.0,
            "retries": 3,
            "backoff": {"initial_seconds": 1.0, "factor": 2.0, "max_seconds": 60.0},
            "is_on_failure": False,
            "rate_limits": [],
            "desired_worker_labels": {},
            "concurrency": None,
            "sticky": "",
        },
        {
            "name": "send",
            "action": "Chain:send",
            "parents": ["draft"],
            "timeout_seconds": 60.0,
            "schedule_timeout_seconds": 60.0,
            "retries": 0,
            "backoff": {"initial_seconds": 1.0, "factor": 2.0, "max_seconds": 60.0},
            "is_on_failure": False,
            "rate_limits": [],
            "desired_worker_labels": {},
            "concurrency": None,
            "sticky": "",
        },
    ]
    assert body["triggers"] == {"on_events": ["ticket:created"], "on_crons": ["*/15 * * * *"]}
    newest_first = sorted(runs, key=lambda run: run.created_at, reverse=True)
    assert [r["id"] for r in body["recent_runs"]] == [str(r.id) for r in newest_first[:10]]
    assert body["recent_runs"][0]["status"] == "PENDING"


def test_an_unknown_workflow_is_404(api: APIClient) -> None:
    response = api.get("/api/v1/workflows/Nope")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_triggering_a_run_answers_its_detail(api: APIClient, tenant: Tenant) -> None:
    register(tenant, steps=[{"name": "draft"}])

    response = api.post(
        "/api/v1/workflows/Chain/runs",
        {
            "input": {"ticket": 7},
            "additional_metadata": {"source": "test"},
            "overrides": {"draft": {"prompt": "Be brief."}},
        },
        format="json",
    )

    assert response.status_code == 201
    run = WorkflowRun.objects.get()
    body = response.json()
    assert body["id"] == str(run.id)
    assert (body["workflow"], body["version"], body["status"], body["trigger"]) == (
        "Chain",
        1,
        "PENDING",
        "api",
    )
    assert body["input"] == {"ticket": 7}
    assert body["additional_metadata"] == {"source": "test"}
    assert body["overrides"] == {"draft": {"prompt": "Be brief."}}
    assert [(s["step"], s["status"]) for s in body["step_runs"]] == [
        ("draft", StepRunStatus.QUEUED)
    ]


def test_triggering_with_overrides_of_an_unknown_step_is_400(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, steps=[{"name": "draft"}])

    response = api.post(
        "/api/v1/workflows/Chain/runs", {"overrides": {"nope": {"x": 1}}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "overrides name unknown step(s) of Chain: nope.",
        "details": {"steps": ["nope"]},
    }
    assert not WorkflowRun.objects.exists()


def test_a_trigger_names_a_priority_from_1_to_4_else_the_workflows_holds(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant, priority=2)

    default = api.post("/api/v1/workflows/Chain/runs", {}, format="json")
    urgent = api.post("/api/v1/workflows/Chain/runs", {"priority": 4}, format="json")
    bulk = api.post(
        "/api/v1/workflows/Chain/runs/bulk", {"runs": [{"priority": 3}, {}]}, format="json"
    )
    refused = api.post("/api/v1/workflows/Chain/runs", {"priority": 5}, format="json")

    assert (default.json()["priority"], urgent.json()["priority"]) == (2, 4)
    bulk_ids = [run["id"] for run in bulk.json()["runs"]]
    assert [WorkflowRun.objects.get(pk=i).priority for i in bulk_ids] == [3, 2]
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {
        "priority": ["Ensure this value is less than or equal to 4."]
    }
    steps = StepRun.objects.filter(workflow_run_id=urgent.json()["id"])
    assert {step.priority for step in steps} == {4}


def test_triggering_with_a_misspelt_field_is_400(api: APIClient, tenant: Tenant) -> None:
    register(tenant)

    response = api.post("/api/v1/workflows/Chain/runs", {"inputs": {}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unknown field(s): inputs."


def test_triggering_another_tenants_workflow_is_404(tenant: Tenant, other_api: APIClient) -> None:
    register(tenant)

    response = other_api.post("/api/v1/workflows/Chain/runs", {}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Workflow 'Chain' is not registered."
    assert not WorkflowRun.objects.exists()


def test_a_viewer_cannot_trigger(tenant: Tenant) -> None:
    register(tenant)
    viewer = member_client(tenant, "viewer")

    response = viewer.post("/api/v1/workflows/Chain/runs", {}, format="json")

    assert response.status_code == 403
    assert not WorkflowRun.objects.exists()
