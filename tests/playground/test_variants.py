"""Variants: saved overrides with revisions that can be listed and restored; values
of the wrong type refused."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import PlaygroundWorker, member_client, register_support
from workflows.engine.runs import trigger_workflow_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(tenant: Tenant) -> None:
    """Support has run once, so its variables are known."""
    register_support(tenant)
    trigger_workflow_run(tenant, "Support", {})
    PlaygroundWorker(tenant).run_all()


def create(api: APIClient, overrides: dict[str, Any], name: str = "terse") -> Any:
    return api.post(
        "/api/v1/playground/variants",
        {"workflow": "Support", "name": name, "notes": "first try", "overrides": overrides},
        format="json",
    )


@pytest.mark.usefixtures("catalog")
def test_edits_are_revisions_that_can_be_listed_and_restored(tenant: Tenant) -> None:
    editor = member_client(tenant, "editor", username="eve")
    created = create(editor, {"draft": {"system_prompt": "Be brief.", "temperature": 0.1}})
    assert created.status_code == 201
    variant = created.json()
    assert (variant["revision"], variant["created_by"], variant["workflow"]) == (
        1,
        "eve",
        "Support",
    )
    url = f"/api/v1/playground/variants/{variant['id']}"

    edited = editor.patch(
        url,
        {"overrides": {"draft": {"system_prompt": "Be very brief."}}, "base_revision": 1},
        format="json",
    )
    assert edited.status_code == 200
    assert (edited.json()["revision"], edited.json()["overrides"]) == (
        2,
        {"draft": {"system_prompt": "Be very brief."}},
    )

    revisions = editor.get(f"{url}/revisions").json()["results"]
    assert [r["number"] for r in revisions] == [2, 1]
    assert revisions[0]["author"] == "eve"
    assert revisions[0]["changes"] == [
        {
            "step": "draft",
            "name": "system_prompt",
            "kind": "changed",
            "old": "Be brief.",
            "new": "Be very brief.",
        },
        {"step": "draft", "name": "temperature", "kind": "removed", "old": 0.1, "new": None},
    ]

    restored = editor.post(f"{url}/restore", {"revision": 1}, format="json")
    assert restored.status_code == 200
    assert (restored.json()["revision"], restored.json()["overrides"]) == (
        3,
        {"draft": {"system_prompt": "Be brief.", "temperature": 0.1}},
    )
    latest = editor.get(f"{url}/revisions").json()["results"][0]
    assert (latest["number"], latest["restored_from"]) == (3, 1)
    assert editor.get(url).json()["revision"] == 3


@pytest.mark.usefixtures("catalog")
def test_a_value_of_the_wrong_type_is_refused_with_a_clear_message(api: APIClient) -> None:
    response = create(api, {"draft": {"temperature": "hot"}})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "type_mismatch",
            "message": "draft.temperature takes a number (its default is 0.3), "
            'not a string: "hot".',
            "details": {
                "step": "draft",
                "name": "temperature",
                "expected": "number",
                "got": "string",
            },
        }
    }
    # An integer is a number; a float is no integer; a boolean is neither.
    assert create(api, {"draft": {"temperature": 1}}).status_code == 201
    assert create(api, {"draft": {"max_words": 1.5}}, "b").json()["error"]["code"] == (
        "type_mismatch"
    )
    assert create(api, {"draft": {"max_words": True}}, "c").json()["error"]["code"] == (
        "type_mismatch"
    )


@pytest.mark.usefixtures("catalog")
def test_an_edit_of_the_wrong_type_leaves_the_variant_unchanged(api: APIClient) -> None:
    variant = create(api, {"review": {"strict": True}}).json()
    url = f"/api/v1/playground/variants/{variant['id']}"

    response = api.patch(url, {"overrides": {"review": {"strict": "yes"}}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        'review.strict takes a boolean (its default is false), not a string: "yes".'
    )
    assert api.get(url).json()["revision"] == 1
    assert api.get(f"{url}/revisions").json()["count"] == 1


@pytest.mark.usefixtures("catalog")
def test_unknown_steps_and_variables_are_refused(api: APIClient) -> None:
    ghost_step = create(api, {"ghost": {"x": 1}})
    ghost_variable = create(api, {"review": {"tone": "warm"}})

    assert ghost_step.status_code == 400
    assert (
        ghost_step.json()["error"]["message"] == "overrides name unknown step(s) of Support: ghost."
    )
    assert ghost_variable.json()["error"] == {
        "code": "unknown_variable",
        "message": "Step 'review' of Support has not exposed a variable 'tone' "
        "(it exposes: strict).",
        "details": {"step": "review", "name": "tone", "known": ["strict"]},
    }


@pytest.mark.usefixtures("catalog")
def test_an_edit_on_a_stale_revision_is_a_conflict(api: APIClient) -> None:
    variant = create(api, {"review": {"strict": True}}).json()
    url = f"/api/v1/playground/variants/{variant['id']}"
    api.patch(url, {"notes": "second"}, format="json")

    response = api.patch(url, {"notes": "third", "base_revision": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "Variant 'terse' changed since revision 1: it is at revision 2. Reload it and edit again."
    )


@pytest.mark.usefixtures("catalog")
def test_names_are_unique_per_workflow_and_an_empty_edit_is_no_revision(api: APIClient) -> None:
    variant = create(api, {}).json()

    duplicate = create(api, {})
    unchanged = api.patch(
        f"/api/v1/playground/variants/{variant['id']}", {"notes": "first try"}, format="json"
    )

    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["message"] == "Support already has a variant named 'terse'."
    assert unchanged.json()["revision"] == 1


@pytest.mark.usefixtures("catalog")
def test_restoring_a_revision_that_does_not_exist_is_404(api: APIClient) -> None:
    variant = create(api, {}).json()

    response = api.post(
        f"/api/v1/playground/variants/{variant['id']}/restore", {"revision": 7}, format="json"
    )

    assert response.status_code == 404
    assert (
        response.json()["error"]["message"] == "Variant 'terse' has no revision 7 (it has 1 to 1)."
    )


@pytest.mark.usefixtures("catalog")
def test_a_deleted_variant_is_gone_and_unknown_fields_are_refused(api: APIClient) -> None:
    variant = create(api, {}).json()
    url = f"/api/v1/playground/variants/{variant['id']}"

    typo = api.patch(url, {"overides": {}}, format="json")
    deleted = api.delete(url)

    assert typo.json()["error"]["message"] == "Unknown field(s): overides."
    assert deleted.status_code == 204
    assert api.get(url).status_code == 404
