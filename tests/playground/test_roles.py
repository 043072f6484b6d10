"""Every playground endpoint: viewers read, editors (and admins) also write, strangers
are refused, and another tenant's objects do not exist."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.models import Comparison, PlaygroundRun, Variant, VariantRevision
from tests.factories import filled, member_client, playground_objects, register_support

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/playground/variables",
    "/api/v1/playground/variables/{variable}",
    "/api/v1/playground/variants",
    "/api/v1/playground/variants/{variant}",
    "/api/v1/playground/variants/{variant}/revisions",
    "/api/v1/playground/runs",
    "/api/v1/playground/runs/{run}",
    "/api/v1/playground/compare",
    "/api/v1/playground/compare/{comparison}",
]
WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/api/v1/playground/variants", {"workflow": "Support", "name": "new"}),
    ("patch", "/api/v1/playground/variants/{variant}", {"notes": "edited"}),
    ("post", "/api/v1/playground/variants/{variant}/restore", {"revision": 1}),
    ("post", "/api/v1/playground/runs", {"workflow": "Support"}),
    ("post", "/api/v1/playground/runs/replay", {"source_run": "{run}"}),
    (
        "post",
        "/api/v1/playground/compare",
        {"workflow": "Support", "columns": [{"baseline": True}], "rows": [{"run": "{run}"}]},
    ),
    ("delete", "/api/v1/playground/variants/{variant}", {}),
]


@pytest.fixture
def ids(tenant: Tenant) -> dict[str, str]:
    return playground_objects(tenant)


def rows() -> tuple[int, ...]:
    return (
        Variant.objects.count(),
        VariantRevision.objects.count(),
        PlaygroundRun.objects.count(),
        Comparison.objects.count(),
    )


@pytest.mark.parametrize("path", READS)
def test_a_viewer_reads_everything(tenant: Tenant, ids: dict[str, str], path: str) -> None:
    viewer = member_client(tenant, "viewer")

    response = viewer.get(filled(path, ids))

    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_viewer_changes_nothing(
    tenant: Tenant, ids: dict[str, str], method: str, path: str, body: dict[str, Any]
) -> None:
    viewer = member_client(tenant, "viewer")
    before = rows()

    response = getattr(viewer, method)(filled(path, ids), filled(body, ids), format="json")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "This needs the editor role.",
        "details": {},
    }
    assert rows() == before


@pytest.mark.parametrize("role", ["editor", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_editors_and_admins_edit_run_replay_and_compare(
    tenant: Tenant, ids: dict[str, str], role: str, method: str, path: str, body: dict[str, Any]
) -> None:
    member = member_client(tenant, role)

    response = getattr(member, method)(filled(path, ids), filled(body, ids), format="json")

    assert response.status_code in {200, 201, 204}, response.content


@pytest.mark.parametrize("path", READS)
def test_strangers_are_refused(ids: dict[str, str], path: str) -> None:
    response = APIClient().get(filled(path, ids))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", [p for p in READS if "{" in p])
def test_another_tenants_objects_do_not_exist(
    other_api: APIClient, ids: dict[str, str], path: str
) -> None:
    response = other_api.get(filled(path, ids))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "body"), [w for w in WRITES if "{" in w[1] or "{run}" in str(w[2])]
)
def test_another_tenant_cannot_touch_them(
    other_api: APIClient,
    other_tenant: Tenant,
    ids: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    register_support(other_tenant)
    before = rows()

    response = getattr(other_api, method)(filled(path, ids), filled(body, ids), format="json")

    assert response.status_code == 404
    assert rows() == before


@pytest.mark.parametrize("path", [p for p in READS if "{" not in p])
@pytest.mark.usefixtures("ids")
def test_another_tenants_lists_are_empty(other_api: APIClient, path: str) -> None:
    assert other_api.get(path).json()["count"] == 0
