"""GET/POST /api/v1/members, PATCH/DELETE /api/v1/members/{id}."""

import pytest
from rest_framework.test import APIClient

from hatchet.models import Membership, Tenant
from tests.factories import member_client

pytestmark = pytest.mark.django_db


def test_an_admin_creates_new_users_as_members(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")

    created = admin.post(
        "/api/v1/members",
        {"username": "cy", "role": "viewer", "password": "a long pass 42", "email": "c@x.io"},
        format="json",
    )

    assert created.status_code == 201
    assert (created.json()["user"]["email"], created.json()["role"]) == ("c@x.io", "viewer")
    assert "password" not in created.json()
    listed = admin.get("/api/v1/members").json()["results"]
    assert [(m["user"]["username"], m["role"]) for m in listed] == [
        ("ada", "admin"),
        ("cy", "viewer"),
    ]
    assert APIClient().login(username="cy", password="a long pass 42")


def test_a_user_of_another_tenant_is_not_enrolled_nor_shown(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = member_client(tenant, "admin", username="ada")
    member_client(other_tenant, "admin", username="bob")

    without_password = admin.post(
        "/api/v1/members", {"username": "bob", "role": "editor"}, format="json"
    )
    with_password = admin.post(
        "/api/v1/members",
        {"username": "bob", "role": "editor", "password": "a long pass 42"},
        format="json",
    )

    assert (without_password.status_code, without_password.json()["error"]["message"]) == (
        400,
        "password: This field is required.",
    )
    assert (with_password.status_code, with_password.json()) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": "The username 'bob' is taken: invite its holder instead, who joins "
                "by accepting.",
                "details": {"username": "bob"},
            }
        },
    )
    assert not Membership.objects.filter(tenant=tenant, user__username="bob").exists()
    assert not APIClient().login(username="bob", password="a long pass 42")


def test_adding_is_refused_precisely(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")

    again = admin.post(
        "/api/v1/members",
        {"username": "ada", "role": "viewer", "password": "a long pass 42"},
        format="json",
    )
    weak = admin.post(
        "/api/v1/members", {"username": "zed", "role": "viewer", "password": "1"}, format="json"
    )
    bad_role = admin.post("/api/v1/members", {"username": "ada", "role": "owner"}, format="json")

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
