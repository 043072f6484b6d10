"""The variable catalog: filled from what step runs record, with each default's history."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.models import Variable
from tests.factories import PlaygroundWorker, register_support
from workflows.engine.results import record_step_completed, record_step_started
from workflows.engine.runs import trigger_workflow_run

pytestmark = pytest.mark.django_db


def test_a_completed_step_adds_its_variables_through_the_engines_announcement(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    register_support(tenant)
    trigger_workflow_run(tenant, "Support", {"ticket": "refund"})
    worker = PlaygroundWorker(tenant)
    [assignment] = worker.claim("classify")
    ref = (tenant.id, assignment.step_run_id, assignment.attempt, worker.id)
    record = {
        "name": "labels",
        "default": ["billing"],
        "value": ["billing"],
        "type": "array",
        "call_site": {"path": "app/support.py", "line": 12, "function": "classify"},
    }

    with django_capture_on_commit_callbacks(execute=True):
        record_step_started(*ref)
        record_step_completed(*ref, {"label": "billing"}, [record, {"name": "", "type": "?"}])

    [variable] = Variable.objects.all()
    assert (variable.step, variable.name, variable.type, variable.default) == (
        "classify",
        "labels",
        "array",
        ["billing"],
    )
    assert variable.call_site == {"path": "app/support.py", "line": 12, "function": "classify"}
    assert variable.first_seen_at == variable.last_seen_at is not None


def test_the_catalog_api_lists_each_variable_with_its_default_history(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    worker = PlaygroundWorker(tenant)
    trigger_workflow_run(tenant, "Support", {})
    worker.run_step("classify")
    worker.run_step("draft")
    # The developer changes a default and a timeout: a second version runs.
    register_support(tenant, timeout="5m")
    trigger_workflow_run(tenant, "Support", {})
    worker.run_step("classify")
    worker.run_step(
        "draft", defaults={"system_prompt": "Be brief.", "temperature": 0.3, "max_words": 80}
    )

    response = api.get("/api/v1/playground/variables", {"workflow": "Support", "step": "draft"})

    assert response.status_code == 200
    variables = response.json()["results"]
    assert [(v["step"], v["name"], v["type"]) for v in variables] == [
        ("draft", "max_words", "integer"),
        ("draft", "system_prompt", "string"),
        ("draft", "temperature", "number"),
    ]
    prompt = variables[1]
    assert (prompt["workflow"], prompt["default"], prompt["version"]) == (
        "Support",
        "Be brief.",
        2,
    )
    assert prompt["call_site"] == {"path": "support.py", "line": 10, "function": "draft"}
    assert [(h["version"], h["default"]) for h in prompt["history"]] == [
        (1, "You are kind."),
        (2, "Be brief."),
    ]
    assert prompt["first_seen_at"] < prompt["last_seen_at"]
    assert [(h["version"], h["default"]) for h in variables[2]["history"]] == [(1, 0.3), (2, 0.3)]


def test_an_older_version_finishing_late_does_not_bring_its_default_back(
    tenant: Tenant,
) -> None:
    register_support(tenant)
    worker = PlaygroundWorker(tenant)
    trigger_workflow_run(tenant, "Support", {})
    [old] = worker.claim("classify")
    register_support(tenant, timeout="5m")
    trigger_workflow_run(tenant, "Support", {})
    [new] = worker.claim("classify")

    worker.complete(new, {}, defaults={"labels": ["new"]})
    worker.complete(old, {}, defaults={"labels": ["old"]})

    variable = Variable.objects.get(name="labels")
    assert (variable.default, variable.version_number) == (["new"], 2)
    assert sorted(str(h.default) for h in variable.history.all()) == ["['new']", "['old']"]


def test_other_tenants_variables_are_invisible(
    api: APIClient, other_api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    trigger_workflow_run(tenant, "Support", {})
    PlaygroundWorker(tenant).run_step("classify")
    variable_id = Variable.objects.get().pk

    assert other_api.get("/api/v1/playground/variables").json()["count"] == 0
    response = other_api.get(f"/api/v1/playground/variables/{variable_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api.get(f"/api/v1/playground/variables/{variable_id}").status_code == 200
