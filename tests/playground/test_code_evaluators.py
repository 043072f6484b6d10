"""Code evaluators as the server sees them: the declaration a worker registers becomes
an evaluator of kind `code`, refused precisely when it cannot be one; its name, step
and function change only in code; trying one with no worker answers pending with the
run that waits. The scores of a comparison's cells from a real worker are in
tests/e2e/test_code_evaluators.py."""

from typing import Any

from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.models import Evaluator
from tests.factories import definition, register_support
from workflows.models import Workflow, WorkflowRun


def declaration(**changes: Any) -> dict[str, Any]:
    """The definition a worker registers for the evaluator `concise` of Support."""
    evaluator = {
        "name": "concise",
        "workflow": "Support",
        "step": "draft",
        "function": "graders.concise",
        "worker": "support-worker",
        **changes,
    }
    steps = [{"name": "evaluate", "parents": []}]
    return {**definition(f"Support.evaluate.{evaluator['name']}", steps), "evaluator": evaluator}


def register(api: APIClient, body: dict[str, Any]) -> Any:
    return api.post("/api/v1/workflows", body, format="json")


def test_a_registered_declaration_is_a_code_evaluator_kept_up_to_date(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)

    first = register(api, declaration())
    again = register(api, declaration())
    moved = register(api, declaration(worker="graders", function="graders.v2.concise"))

    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert moved.status_code == 201, moved.json()
    [listed] = api.get("/api/v1/playground/evaluators", {"kind": "code"}).json()["results"]
    assert {k: v for k, v in listed.items() if k not in ("id", "created_at", "updated_at")} == {
        "workflow": "Support",
        "step": "draft",
        "name": "concise",
        "kind": "code",
        "config": {
            "workflow": "Support.evaluate.concise",
            "function": "graders.v2.concise",
            "worker": "graders",
        },
        "threshold": 0.5,
        "created_by": "support-worker",
    }


def test_a_declaration_that_cannot_be_an_evaluator_refuses_the_registration(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    built_in = {"workflow": "Support", "name": "taken", "kind": "is_json"}
    assert api.post("/api/v1/playground/evaluators", built_in, format="json").status_code == 201
    refusals = {
        "unregistered": declaration(workflow="Billing"),
        "no such step": declaration(step="polish"),
        "not an object": {**declaration(), "evaluator": "concise"},
        "unknown field": declaration(language="go"),
        "bad name": declaration(name="not ok"),
        "name taken": declaration(name="taken"),
    }

    answers = {why: register(api, body) for why, body in refusals.items()}

    assert {why: (r.status_code, r.json()["error"]["code"]) for why, r in answers.items()} == {
        why: (400, "invalid_definition") for why in refusals
    }
    messages = {why: r.json()["error"]["message"] for why, r in answers.items()}
    assert messages["unregistered"] == (
        "The evaluator 'concise' scores the workflow 'Billing', which is not registered: "
        "register it first."
    )
    assert messages["no such step"] == (
        "The evaluator 'concise' scores the step 'polish', which Support does not have "
        "(its steps: classify, draft, review)."
    )
    assert messages["name taken"] == (
        "Support already has an evaluator named 'taken' (is_json): rename the code "
        "evaluator or delete that one."
    )
    assert answers["unknown field"].json()["error"]["details"] == {"fields": ["language"]}
    # Nothing of a refused registration is kept.
    assert list(Workflow.objects.filter(tenant=tenant).values_list("name", flat=True)) == [
        "Support"
    ]
    assert list(Evaluator.objects.values_list("name", flat=True)) == ["taken"]


def test_a_code_evaluator_is_declared_in_code_and_only_its_threshold_is_set_here(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    register(api, declaration())
    evaluator = Evaluator.objects.get(name="concise")
    url = f"/api/v1/playground/evaluators/{evaluator.pk}"

    made = api.post(
        "/api/v1/playground/evaluators",
        {"workflow": "Support", "name": "by hand", "kind": "code"},
        format="json",
    )
    renamed = api.patch(url, {"name": "brief", "step": "review"}, format="json")
    loosened = api.patch(url, {"threshold": 0.3}, format="json")

    declared_in_code = (
        "A code evaluator is declared in code with the SDK's @hatchet.evaluator and made "
        "when a worker registers it; its name, step and function change there."
    )
    assert made.status_code == 400
    assert made.json()["error"]["details"] == {"kind": [declared_in_code]}
    assert renamed.status_code == 400
    assert renamed.json()["error"]["details"] == {
        "name": [declared_in_code],
        "step": [declared_in_code],
    }
    assert (loosened.status_code, loosened.json()["threshold"]) == (200, 0.3)


def test_trying_one_no_worker_serves_answers_pending_with_the_run_that_waits(
    api: APIClient, tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_CODE_EVALUATOR_TRY_WAIT = 0.2
    register_support(tenant)
    register(api, declaration())
    evaluator = Evaluator.objects.get(name="concise")

    tried = api.post(
        f"/api/v1/playground/evaluators/{evaluator.pk}/try",
        {"input": {"ticket": "Where is my refund?"}, "output": {"reply": "Soon."}},
        format="json",
    )

    assert tried.status_code == 200
    verdict = tried.json()
    assert {k: v for k, v in verdict.items() if k != "run"} == {
        "status": "pending",
        "value": None,
        "passed": None,
        "reason": "waiting for its run on a worker with the action "
        "Support.evaluate.concise:evaluate",
        "error": "",
        "tokens": None,
        "cost": None,
        "latency_ms": None,
    }
    run = WorkflowRun.objects.get(pk=verdict["run"])
    assert (run.workflow.name, run.trigger, run.status) == (
        "Support.evaluate.concise",
        "evaluator",
        "PENDING",
    )
    assert run.input == {
        "input": {"ticket": "Where is my refund?"},
        "output": {"reply": "Soon."},
        "expected": None,
        "metadata": {"evaluator": str(evaluator.pk)},
    }
    assert run.step_runs.get().status == "QUEUED"
