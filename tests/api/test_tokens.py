"""GET/POST /api/v1/tokens and DELETE /api/v1/tokens/{id}; what each token role may
do on the REST API."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import APIToken, Tenant, TokenRole, hash_token
from tests.factories import connect_worker, definition, member_client
from workers.models import Worker

pytestmark = pytest.mark.django_db


def test_issuing_a_token_shows_its_secret_once(api: APIClient, tenant: Tenant) -> None:
    response = api.post("/api/v1/tokens", {"name": "ci"}, format="json")

    assert response.status_code == 201
    body = response.json()
    token = APIToken.objects.get(name="ci")
    assert set(body) == {"id", "name", "role", "prefix", "created_at", "token"}
    assert (body["id"], body["name"], body["prefix"]) == (str(token.id), "ci", token.prefix)
    assert body["role"] == token.role == "viewer"
    assert body["token"].startswith(token.prefix)
    assert token.token_hash == hash_token(body["token"])
    assert (token.tenant, token.created_by) == (tenant, None)


def test_the_new_token_works(api: APIClient) -> None:
    secret = api.post("/api/v1/tokens", {"name": "ci"}, format="json").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert client.get("/api/v1/workflows").status_code == 200


def test_an_admin_session_records_who_issued_it(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")

    response = admin.post("/api/v1/tokens", {"name": "laptop"}, format="json")

    assert response.status_code == 201
    assert APIToken.objects.get(name="laptop").created_by.username == "ada"  # type: ignore[union-attr]
    listed = admin.get("/api/v1/tokens").json()["results"]
    assert [(t["name"], t["created_by"]) for t in listed] == [("laptop", "ada")]


def test_the_list_never_shows_secrets_or_hashes(api: APIClient, other_api: APIClient) -> None:
    api.post("/api/v1/tokens", {"name": "ci"}, format="json")

    body = api.get("/api/v1/tokens").json()

    assert [t["name"] for t in body["results"]] == ["ci", "tests"]
    assert set(body["results"][0]) == {
        "id",
        "name",
        "role",
        "prefix",
        "created_at",
        "last_used_at",
        "created_by",
    }
    assert [t["name"] for t in other_api.get("/api/v1/tokens").json()["results"]] == ["tests"]


def test_a_token_needs_a_name(api: APIClient) -> None:
    response = api.post("/api/v1/tokens", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "name: This field is required."


def test_a_tokens_name_is_a_string_not_a_number_made_one(api: APIClient) -> None:
    """Schemathesis found a number taken as a name, where the schema says string."""
    response = api.post("/api/v1/tokens", {"name": 35242682746}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "code": "invalid_request",
                "message": "name: Not a valid string.",
                "details": {"name": ["Not a valid string."]},
            }
        },
    )
    assert list(APIToken.objects.values_list("name", flat=True)) == ["tests"]


def test_editors_cannot_manage_tokens(tenant: Tenant) -> None:
    editor = member_client(tenant, "editor")

    listed = editor.get("/api/v1/tokens")
    issued = editor.post("/api/v1/tokens", {"name": "x"}, format="json")

    assert (listed.status_code, issued.status_code) == (403, 403)
    assert issued.json()["error"]["message"] == "This needs the admin role."
    assert not APIToken.objects.exists()


def test_a_revoked_token_is_refused(api: APIClient, tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "old", TokenRole.VIEWER)
    revoked = APIClient()
    revoked.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert revoked.get("/api/v1/runs").status_code == 200

    response = api.delete(f"/api/v1/tokens/{token.id}")

    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = revoked.get("/api/v1/runs")
    assert refused.status_code == 401
    assert refused.json()["error"] == {
        "code": "not_authenticated",
        "message": "Invalid or revoked API token.",
        "details": {},
    }
    assert [t["name"] for t in api.get("/api/v1/tokens").json()["results"]] == ["tests"]
    assert api.delete(f"/api/v1/tokens/{token.id}").status_code == 404


def test_another_tenants_token_cannot_be_revoked(tenant: Tenant, other_api: APIClient) -> None:
    token, _ = APIToken.issue(tenant, "mine", TokenRole.ADMIN)

    response = other_api.delete(f"/api/v1/tokens/{token.id}")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def registered_worker(tenant: Tenant, name: str, token: APIToken) -> Worker:
    return connect_worker(tenant, name, [], token=token)


def token_client(tenant: Tenant, role: str) -> APIClient:
    _, secret = APIToken.issue(tenant, role, role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.parametrize("role", ["viewer", "editor", "admin", "worker"])
def test_an_admin_issues_a_token_of_any_role_and_the_list_shows_it(
    api: APIClient, role: str
) -> None:
    issued = api.post("/api/v1/tokens", {"name": "ci", "role": role}, format="json")

    assert (issued.status_code, issued.json()["role"]) == (201, role)
    assert APIToken.objects.get(name="ci").role == role
    listed = api.get("/api/v1/tokens").json()["results"]
    assert [(t["name"], t["role"]) for t in listed] == [("ci", role), ("tests", "admin")]


def test_an_unknown_role_is_refused(api: APIClient) -> None:
    response = api.post("/api/v1/tokens", {"name": "ci", "role": "owner"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == 'role: "owner" is not a valid choice.'
    assert not APIToken.objects.filter(name="ci").exists()


@pytest.mark.parametrize("role", ["viewer", "editor", "worker"])
def test_only_admin_tokens_manage_tokens(tenant: Tenant, role: str) -> None:
    client = token_client(tenant, role)

    listed = client.get("/api/v1/tokens")
    issued = client.post("/api/v1/tokens", {"name": "x", "role": "admin"}, format="json")

    assert (listed.status_code, issued.status_code) == (403, 403)
    assert not APIToken.objects.filter(name="x").exists()


WORKER_SCOPE_ERROR = {
    "code": "permission_denied",
    "message": "A worker token may only connect to /ws/worker, register workflows "
    "(POST /api/v1/workflows) and read the workers it runs (GET /api/v1/workers); "
    "use a viewer, editor or admin token for the rest.",
    "details": {"role": "worker"},
}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/tokens", None),
        ("post", "/api/v1/tokens", {"name": "escalate", "role": "admin"}),
        ("get", "/api/v1/members", None),
        ("post", "/api/v1/members", {"username": "mallory", "role": "admin", "password": "x"}),
        ("get", "/api/v1/playground/github-connection", None),
        ("put", "/api/v1/playground/github-connection", {"repository": "evil/repo"}),
        ("get", "/api/v1/workflows", None),
        ("get", "/api/v1/workflows/Chain", None),
        ("post", "/api/v1/workflows/Chain/runs", {"input": {}}),
        ("get", "/api/v1/runs", None),
        ("post", "/api/v1/events", {"key": "ticket:created", "payload": {}}),
        ("post", "/api/v1/workflows/Chain/runs/bulk", {"runs": []}),
        ("get", "/api/v1/playground/variables", None),
    ],
)
def test_a_worker_token_is_refused_everywhere_but_registering_workflows(
    tenant: Tenant, method: str, path: str, body: Any
) -> None:
    worker = token_client(tenant, "worker")

    response = getattr(worker, method)(path, body, format="json")

    assert response.status_code == 403
    assert response.json() == {"error": WORKER_SCOPE_ERROR}


def test_a_worker_token_registers_the_workflows_it_serves(tenant: Tenant) -> None:
    worker = token_client(tenant, "worker")

    response = worker.post("/api/v1/workflows", definition("Chain"), format="json")

    assert response.status_code == 201
    assert (response.json()["workflow"], response.json()["version"]) == ("Chain", 1)


def test_a_worker_token_reads_only_the_workers_it_runs(tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "host", TokenRole.WORKER)
    other, _ = APIToken.issue(tenant, "other host", TokenRole.WORKER)
    mine = registered_worker(tenant, "mine", token)
    theirs = registered_worker(tenant, "theirs", other)
    worker = APIClient()
    worker.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    listed = worker.get("/api/v1/workers").json()["results"]
    own = worker.get(f"/api/v1/workers/{mine.id}")
    foreign = worker.get(f"/api/v1/workers/{theirs.id}")

    assert [w["name"] for w in listed] == ["mine"]
    assert (own.status_code, own.json()["id"]) == (200, str(mine.id))
    assert foreign.status_code == 404


def test_a_viewer_token_reads_and_writes_nothing(tenant: Tenant) -> None:
    viewer = token_client(tenant, "viewer")

    read = viewer.get("/api/v1/workflows")
    written = viewer.post("/api/v1/workflows", definition("Chain"), format="json")

    assert (read.status_code, written.status_code) == (200, 403)
    assert written.json()["error"]["message"] == "This needs the editor role."


def test_an_editor_token_writes_workflows_but_not_members_or_github(tenant: Tenant) -> None:
    editor = token_client(tenant, "editor")

    written = editor.post("/api/v1/workflows", definition("Chain"), format="json")
    member = editor.post("/api/v1/members", {"username": "x", "role": "admin"}, format="json")
    github = editor.put(
        "/api/v1/playground/github-connection", {"repository": "a/b"}, format="json"
    )

    assert (written.status_code, member.status_code, github.status_code) == (201, 403, 403)
    assert member.json()["error"]["message"] == "This needs the admin role."
    assert github.json()["error"]["message"] == "This needs the admin role."


def test_an_admin_token_manages_members(tenant: Tenant) -> None:
    admin = token_client(tenant, "admin")

    response = admin.post(
        "/api/v1/members",
        {"username": "cy", "role": "viewer", "password": "a long pass 42"},
        format="json",
    )

    assert response.status_code == 201
