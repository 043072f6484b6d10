"""GET/POST /api/v1/tokens and DELETE /api/v1/tokens/{id}."""

import pytest
from rest_framework.test import APIClient

from hatchet.models import APIToken, Tenant, hash_token
from tests.api.conftest import member_client

pytestmark = pytest.mark.django_db


def test_issuing_a_token_shows_its_secret_once(api: APIClient, tenant: Tenant) -> None:
    response = api.post("/api/v1/tokens", {"name": "ci"}, format="json")

    assert response.status_code == 201
    body = response.json()
    token = APIToken.objects.get(name="ci")
    assert set(body) == {"id", "name", "prefix", "created_at", "token"}
    assert (body["id"], body["name"], body["prefix"]) == (str(token.id), "ci", token.prefix)
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


def test_editors_cannot_manage_tokens(tenant: Tenant) -> None:
    editor = member_client(tenant, "editor")

    listed = editor.get("/api/v1/tokens")
    issued = editor.post("/api/v1/tokens", {"name": "x"}, format="json")

    assert (listed.status_code, issued.status_code) == (403, 403)
    assert issued.json()["error"]["message"] == "This needs the admin role."
    assert not APIToken.objects.exists()


def test_a_revoked_token_is_refused(api: APIClient, tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "old")
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
    token, _ = APIToken.issue(tenant, "mine")

    response = other_api.delete(f"/api/v1/tokens/{token.id}")

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
