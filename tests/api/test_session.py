"""GET/POST/DELETE /api/v1/session: the dashboard's CSRF-safe sign-in."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from hatchet.models import Membership, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(tenant: Tenant, other_tenant: Tenant) -> None:
    user = get_user_model().objects.create_user("ada", "ada@example.com", "correct horse 9")
    Membership.objects.create(tenant=tenant, user=user, role="editor")
    Membership.objects.create(tenant=other_tenant, user=user, role="viewer")


def browser() -> tuple[APIClient, str]:
    """A client that checks CSRF as a browser session would, with its CSRF token."""
    client = APIClient(enforce_csrf_checks=True)
    response = client.get("/api/v1/session")
    assert response.status_code == 200
    return client, response.cookies["csrftoken"].value


def sign_in(client: APIClient, csrf: str, password: str = "correct horse 9") -> Any:
    return client.post(
        "/api/v1/session",
        {"username": "ada", "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )


def test_signed_out_the_session_is_empty_and_sets_the_csrf_cookie() -> None:
    client, csrf = browser()

    assert client.get("/api/v1/session").json() == {"user": None, "memberships": []}
    assert csrf


@pytest.mark.usefixtures("ada")
def test_signing_in_shows_the_user_and_every_membership(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    client, csrf = browser()

    response = sign_in(client, csrf)

    assert response.status_code == 200
    body = response.json()
    assert (body["user"]["username"], body["user"]["email"]) == ("ada", "ada@example.com")
    assert [(m["tenant"]["slug"], m["role"]) for m in body["memberships"]] == [
        (tenant.slug, "editor"),
        (other_tenant.slug, "viewer"),
    ]
    assert client.get("/api/v1/session").json() == body
    assert client.get("/api/v1/runs", HTTP_X_HATCHET_TENANT=other_tenant.slug).status_code == 200


@pytest.mark.usefixtures("ada")
def test_a_sign_in_without_the_csrf_token_is_refused() -> None:
    client, _ = browser()

    response = client.post(
        "/api/v1/session", {"username": "ada", "password": "correct horse 9"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert client.get("/api/v1/session").json()["user"] is None


@pytest.mark.usefixtures("ada")
def test_a_wrong_password_is_a_clear_400() -> None:
    client, csrf = browser()

    response = sign_in(client, csrf, password="wrong")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_credentials",
        "message": "The username or password is not right.",
        "details": {},
    }


@pytest.mark.usefixtures("ada", "tenant")
def test_signed_in_writes_need_the_csrf_token_and_signing_out_ends_the_session() -> None:
    client, csrf = browser()
    sign_in(client, csrf)
    csrf = client.cookies["csrftoken"].value

    forged = client.post("/api/v1/events", {"key": "a"}, format="json")
    signed_out = client.delete("/api/v1/session", HTTP_X_CSRFTOKEN=csrf)

    assert forged.status_code == 403
    assert signed_out.status_code == 204
    assert client.get("/api/v1/session").json()["user"] is None
    assert client.get("/api/v1/runs").status_code in (401, 403)
