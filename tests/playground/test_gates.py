"""The regression gate's rules and resources: a workflow's thresholds set over REST by
editors, the verdict they give a comparison's variant column, and the refusals of a
gate asked for badly (the gate's live runs are in tests/e2e/test_gate.py)."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from playground.gates import Rule, gate_verdict, rule_from_option
from playground.models import Comparison
from tests.factories import PlaygroundWorker, editor_with_plain_check, member_client
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(tenant: Tenant, source: WorkflowRun) -> APIClient:  # noqa: ARG001 (Support ran)
    return editor_with_plain_check(tenant)


def set_threshold(api: APIClient, **body: Any) -> Any:
    return api.post(
        "/api/v1/playground/thresholds",
        {"workflow": "Support", "evaluator": "plain", **body},
        format="json",
    )


def test_an_editor_sets_replaces_lists_and_deletes_a_workflows_threshold(
    editor: APIClient, tenant: Tenant
) -> None:
    first = set_threshold(editor, metric="pass_rate", max_drop=0.05)
    again = set_threshold(editor, metric="pass_rate", at_least=0.8)
    viewer = member_client(tenant, "viewer", username="vic")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"]
    listed = viewer.get("/api/v1/playground/thresholds", {"workflow": "Support"}).json()
    assert [
        (t["evaluator"], t["metric"], t["max_drop"], t["at_least"], t["created_by"])
        for t in listed["results"]
    ] == [("plain", "pass_rate", None, 0.8, "eve")]
    assert set_threshold(viewer, metric="pass_rate", max_drop=0.1).status_code == 403
    assert viewer.delete(f"/api/v1/playground/thresholds/{first.json()['id']}").status_code == 403
    assert editor.delete(f"/api/v1/playground/thresholds/{first.json()['id']}").status_code == 204
    assert editor.get("/api/v1/playground/thresholds").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"metric": "pass_rate"},
            400,
            {"non_field_errors": ["Set max_drop, at_least or both."]},
        ),
        (
            {"metric": "pass_rate", "max_drop": 1.5},
            400,
            {"max_drop": ["Ensure this value is less than or equal to 1."]},
        ),
        ({"metric": "p95", "at_least": 0.5}, 400, None),
        (
            {"evaluator": "tone", "metric": "mean_score", "at_least": 0.5},
            404,
            {"evaluator": "tone"},
        ),
    ],
)
def test_a_bad_threshold_is_refused_precisely(
    editor: APIClient, body: dict[str, Any], status: int, error: Any
) -> None:
    answer = set_threshold(editor, **body)

    assert answer.status_code == status
    if error is not None:
        assert answer.json()["error"]["details"] == error
    assert editor.get("/api/v1/playground/thresholds").json()["results"] == []


def start_evaluation(api: APIClient, **body: Any) -> Any:
    return api.post(
        "/api/v1/playground/evaluations",
        {"workflow": "Support", "dataset": "real", "variant": "brief", **body},
        format="json",
    )


def test_an_evaluation_asked_for_badly_is_refused_and_starts_nothing(
    editor: APIClient, source: WorkflowRun
) -> None:
    editor.post(
        "/api/v1/playground/variants",
        {"workflow": "Support", "name": "brief", "overrides": {"draft": {"temperature": 0.9}}},
        format="json",
    )
    missing = start_evaluation(editor)
    dataset = editor.post(
        "/api/v1/playground/datasets", {"workflow": "Support", "name": "real"}, format="json"
    ).json()
    empty = start_evaluation(editor)
    editor.post(
        f"/api/v1/playground/datasets/{dataset['id']}/rows",
        {"runs": [str(source.pk)]},
        format="json",
    )
    unknown_rule = start_evaluation(editor, rules=[{"evaluator": "tone", "at_least": 0.5}])
    unknown_baseline = start_evaluation(editor, baseline="warm")

    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404,
        "Support has no dataset 'real'.",
    )
    assert (empty.status_code, empty.json()["error"]["message"]) == (
        400,
        "Dataset 'real' has no rows yet.",
    )
    assert (unknown_rule.status_code, unknown_rule.json()["error"]["message"]) == (
        400,
        "Support has no evaluator tone (it has: plain).",
    )
    assert (unknown_baseline.status_code, unknown_baseline.json()["error"]["message"]) == (
        404,
        "Support has no variant 'warm'.",
    )
    assert not Comparison.objects.exists()


def test_the_workflows_thresholds_decide_whether_the_variant_regressed(
    editor: APIClient, tenant: Tenant, source: WorkflowRun, django_capture_on_commit_callbacks: Any
) -> None:
    brief = editor.post(
        "/api/v1/playground/variants",
        {
            "workflow": "Support",
            "name": "brief",
            "overrides": {"draft": {"system_prompt": "Be brief."}},
        },
        format="json",
    ).json()["id"]
    matrix = editor.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}, {"variant": brief}],
            "rows": [{"run": str(source.pk)}],
        },
        format="json",
    ).json()
    comparison = Comparison.objects.get(pk=matrix["id"])
    assert gate_verdict(comparison, 1).is_finished is False
    with django_capture_on_commit_callbacks(execute=True):
        PlaygroundWorker(tenant).run_all()

    by_default = gate_verdict(comparison, 1)
    set_threshold(editor, metric="pass_rate", max_drop=1)
    allowed = gate_verdict(comparison, 1)
    asked = gate_verdict(comparison, 1, [Rule("plain", "mean_score", at_least=0.5)])

    assert (by_default.is_finished, by_default.regressed, by_default.reasons) == (
        True,
        True,
        ["plain pass rate fell from 1.000 to 0.000 (by 1.000; at most 0 is allowed)"],
    )
    assert by_default.regressed_rows == [
        {"row": 0, "title": f"run {str(source.pk)[:8]}", "baseline_score": 1.0, "score": 0.0}
    ]
    assert (allowed.regressed, allowed.reasons) == (False, [])
    assert asked.reasons == ["plain mean score is 0.000, under the 0.5 required"]


def test_a_gate_option_names_an_evaluator_a_metric_and_a_bound() -> None:
    assert rule_from_option("tone:mean_score=0.8", "at_least") == Rule(
        "tone", "mean_score", at_least=0.8
    )
    assert rule_from_option("a:b=0.05", "max_drop") == Rule("a:b", "pass_rate", max_drop=0.05)
    for text, message in [
        ("tone", "'tone' is not EVALUATOR=VALUE or EVALUATOR:METRIC=VALUE."),
        ("tone=high", "'tone=high': 'high' is not a number."),
        ("tone=-1", "'tone=-1': a pass rate or mean score bound is from 0 to 1."),
    ]:
        with pytest.raises(InvalidRequest) as refused:
            rule_from_option(text, "at_least")
        assert refused.value.message == message
