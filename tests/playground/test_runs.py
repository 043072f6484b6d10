"""Runs with a variant or overrides, and replays of past runs, whole or from a step."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.models import PlaygroundRun
from tests.factories import PlaygroundWorker, register_support
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


def statuses(run_id: Any) -> dict[str, tuple[str, int]]:
    return {
        s.step.name: (s.status, s.attempt)
        for s in StepRun.objects.filter(workflow_run_id=run_id).select_related("step")
    }


@pytest.mark.usefixtures("source")
def test_a_run_with_a_variant_and_overrides_records_both(api: APIClient, tenant: Tenant) -> None:
    variant = api.post(
        "/api/v1/playground/variants",
        {"workflow": "Support", "name": "terse", "overrides": {"draft": {"temperature": 0.0}}},
        format="json",
    ).json()
    api.patch(
        f"/api/v1/playground/variants/{variant['id']}",
        {"overrides": {"draft": {"temperature": 0.9}}},
        format="json",
    )

    response = api.post(
        "/api/v1/playground/runs",
        {
            "workflow": "Support",
            "input": {"ticket": "Hi"},
            "variant": variant["id"],
            "variant_revision": 1,
            "overrides": {"draft": {"system_prompt": "Be brief."}},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["variant"], body["variant_name"], body["variant_revision"]) == (
        "run",
        variant["id"],
        "terse",
        1,
    )
    assert body["overrides"] == {"draft": {"system_prompt": "Be brief."}}
    assert body["run"]["overrides"] == {"draft": {"temperature": 0.0, "system_prompt": "Be brief."}}
    assert (body["run"]["trigger"], body["diff"]) == ("playground", None)
    worker = PlaygroundWorker(tenant)
    worker.run_step("classify")
    [draft] = worker.claim("draft")
    assert draft.overrides == {"temperature": 0.0, "system_prompt": "Be brief."}
    listed = api.get("/api/v1/playground/runs", {"variant": variant["id"]}).json()
    assert [r["run_id"] for r in listed["results"]] == [body["run_id"]]


def test_a_replay_from_the_second_step_reuses_the_first_steps_output(
    api: APIClient, tenant: Tenant, source: WorkflowRun
) -> None:
    response = api.post(
        "/api/v1/playground/runs/replay",
        {
            "source_run": str(source.pk),
            "from_step": "draft",
            "overrides": {"draft": {"system_prompt": "Be brief."}},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["source_run"], body["from_step"]) == (
        "replay",
        str(source.pk),
        "draft",
    )
    replay_id = body["run_id"]
    # An experiment, not traffic: the playground's own pickers leave such runs out.
    assert WorkflowRun.objects.get(pk=replay_id).trigger == "playground"
    assert statuses(replay_id) == {
        "classify": ("SUCCEEDED", 0),
        "draft": ("QUEUED", 0),
        "review": ("PENDING", 0),
    }
    assert body["run"]["status"] == "RUNNING"
    assert body["run"]["input"] == {"ticket": "Where is my refund?"}
    worker = PlaygroundWorker(tenant)
    assert worker.claim("classify") == []
    [draft] = worker.claim("draft")
    assert draft.parents == {"classify": {"step": "classify", "used": {}}}
    worker.complete(draft, {"step": "draft", "used": draft.overrides})
    worker.run_step("review")

    detail = api.get(f"/api/v1/playground/runs/{replay_id}").json()
    assert detail["run"]["status"] == "SUCCEEDED"
    diff = {d["step"]: d for d in detail["diff"]}
    assert (diff["classify"]["reused"], diff["classify"]["changed"]) == (True, False)
    assert diff["draft"]["source_output"] == {"step": "draft", "used": {}}
    assert diff["draft"]["replay_output"] == {
        "step": "draft",
        "used": {"system_prompt": "Be brief."},
    }
    assert diff["draft"]["changes"] == [
        {"path": ["used", "system_prompt"], "kind": "added", "old": None, "new": "Be brief."}
    ]
    assert '+    "system_prompt": "Be brief."' in diff["draft"]["unified"]
    assert (diff["review"]["reused"], diff["review"]["changed"]) == (False, False)


@pytest.mark.usefixtures("tenant")
def test_a_whole_replay_runs_every_step_again_on_the_source_input(
    api: APIClient, source: WorkflowRun
) -> None:
    response = api.post(
        "/api/v1/playground/runs/replay", {"source_run": str(source.pk)}, format="json"
    )

    assert response.status_code == 201
    assert statuses(response.json()["run_id"]) == {
        "classify": ("QUEUED", 0),
        "draft": ("PENDING", 0),
        "review": ("PENDING", 0),
    }
    assert response.json()["run"]["input"] == {"ticket": "Where is my refund?"}
    assert PlaygroundRun.objects.get().source_run_id == source.pk


def test_a_replay_cannot_start_after_a_step_that_did_not_succeed(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    unfinished = trigger_workflow_run(tenant, "Support", {"ticket": "?"})
    PlaygroundWorker(tenant).run_step("classify")

    response = api.post(
        "/api/v1/playground/runs/replay",
        {"source_run": str(unfinished.pk), "from_step": "review"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "Cannot replay from 'review': step 'draft' of the source run has no output "
        "to reuse (it is QUEUED).",
        "details": {"from_step": "review", "step": "draft", "status": "QUEUED"},
    }
    assert WorkflowRun.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"from_step": "nope"},
            "Workflow Support has no step 'nope' (its steps: classify, draft, review).",
        ),
        (
            {"from_step": "draft", "input": {"ticket": "other"}},
            "input cannot change when replaying from a step: the reused outputs were computed "
            "from the source run's input.",
        ),
        (
            {"overrides": {"draft": {"temperature": "hot"}}},
            'draft.temperature takes a number (its default is 0.3), not a string: "hot".',
        ),
    ],
)
def test_bad_replays_are_refused(
    api: APIClient, source: WorkflowRun, body: dict[str, Any], message: str
) -> None:
    response = api.post(
        "/api/v1/playground/runs/replay", {"source_run": str(source.pk), **body}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_another_tenants_runs_cannot_be_replayed_or_seen(
    api: APIClient, other_api: APIClient, source: WorkflowRun
) -> None:
    replay_id = api.post(
        "/api/v1/playground/runs/replay", {"source_run": str(source.pk)}, format="json"
    ).json()["run_id"]

    stolen = other_api.post(
        "/api/v1/playground/runs/replay", {"source_run": str(source.pk)}, format="json"
    )

    assert stolen.status_code == 404
    assert stolen.json()["error"]["message"] == "Workflow run not found."
    assert other_api.get(f"/api/v1/playground/runs/{replay_id}").status_code == 404
    assert other_api.get("/api/v1/playground/runs").json()["count"] == 0
