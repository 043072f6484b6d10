"""GET/POST /api/v1/members, PATCH/DELETE /api/v1/members/{id}."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from hatchet.models import Membership, Tenant
from tests.api.conftest import member_client

pytestmark = pytest.mark.django_db


def test_an_admin_adds_an_existing_user_or_creates_one(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")
    get_user_model().objects.create_user("bob", password="unused pass 1")

    existing = admin.post("/api/v1/members", {"username": "bob", "role": "editor"}, format="json")
    created = admin.post(
        "/api/v1/members",
        {"username": "cy", "role": "viewer", "password": "a long pass 42", "email": "c@x.io"},
        format="json",
    )

    assert (existing.status_code, created.status_code) == (201, 201)
    assert existing.json()["user"]["username"] == "bob"
    assert (created.json()["user"]["email"], created.json()["role"]) == ("c@x.io", "viewer")
    assert "password" not in created.json()
    listed = admin.get("/api/v1/members").json()["results"]
    assert [(m["user"]["username"], m["role"]) for m in listed] == [
        ("ada", "admin"),
        ("bob", "editor"),
        ("cy", "viewer"),
    ]
    assert APIClient().login(username="cy", password="a long pass 42")


def test_adding_is_refused_precisely(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")

    unknown = admin.post("/api/v1/members", {"username": "zed", "role": "viewer"}, format="json")
    again = admin.post("/api/v1/members", {"username": "ada", "role": "viewer"}, format="json")
    weak = admin.post(
        "/api/v1/members", {"username": "zed", "role": "viewer", "password": "1"}, format="json"
    )
    bad_role = admin.post("/api/v1/members", {"username": "ada", "role": "owner"}, format="json")

    assert (unknown.status_code, unknown.json()["error"]["message"]) == (
        400,
        "There is no user 'zed'; give a password to create one.",
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert weak.status_code == 400
    assert weak.json()["error"]["message"].startswith("password:")
    assert bad_role.status_code == 400
    assert bad_role.json()["error"]["message"].startswith("role:")


def test_roles_change_but_the_last_admin_stays(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")
    me = Membership.objects.get(user__username="ada")

    demoted = admin.patch(f"/api/v1/members/{me.pk}", {"role": "viewer"}, format="json")
    removed = admin.delete(f"/api/v1/members/{me.pk}")

    assert demoted.status_code == 409
    assert demoted.json()["error"]["message"] == "A tenant needs at least one admin."
    assert removed.status_code == 409
    bob = admin.post(
        "/api/v1/members",
        {"username": "bob", "role": "admin", "password": "a long pass 42"},
        format="json",
    ).json()
    assert (
        admin.patch(f"/api/v1/members/{me.pk}", {"role": "editor"}, format="json").json()["role"]
        == "editor"
    )
    assert Membership.objects.get(pk=bob["id"]).role == "admin"


def test_only_admins_change_members_and_only_their_own_tenant(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    editor = member_client(tenant, "editor", username="ed")
    outsider = member_client(other_tenant, "admin", username="os")
    ed = Membership.objects.get(user__username="ed")

    assert editor.get("/api/v1/members").status_code == 200
    assert (
        editor.patch(f"/api/v1/members/{ed.pk}", {"role": "admin"}, format="json").status_code
        == 403
    )
    assert editor.delete(f"/api/v1/members/{ed.pk}").status_code == 403
    assert outsider.delete(f"/api/v1/members/{ed.pk}").status_code == 404
    assert Membership.objects.get(pk=ed.pk).role == "editor"
