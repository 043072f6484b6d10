"""GET/POST /api/v1/invitations, DELETE /api/v1/invitations/{id} (admins) and
GET /api/v1/session/invitations, POST …/{id}/accept and …/{id}/decline (the invitee)."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Invitation, Membership, Tenant
from tests.factories import client_for, member_client

pytestmark = pytest.mark.django_db


def signed_in(username: str, email: str = "") -> APIClient:
    """A user who belongs to no tenant, signed in."""
    user = get_user_model().objects.create_user(username, email, "not-used-here")
    client = APIClient()
    client.force_login(user)
    return client


def invite(admin: APIClient, invitee: str, role: str = "editor") -> Any:
    return admin.post("/api/v1/invitations", {"invitee": invitee, "role": role}, format="json")


def tenants_of(username: str) -> list[str]:
    return sorted(
        Membership.objects.filter(user__username=username).values_list("tenant__slug", flat=True)
    )


def test_inviting_answers_the_same_whoever_the_invitee_is(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = member_client(tenant, "admin", username="ada")
    bob = member_client(other_tenant, "admin", username="bob")
    bob_user = get_user_model().objects.get(username="bob")
    bob_user.email = "bob@globex.io"
    bob_user.save()

    answers = [invite(admin, name) for name in ("bob", "bob@globex.io", "nobody")]

    for answer, name in zip(answers, ("bob", "bob@globex.io", "nobody"), strict=True):
        body = answer.json()
        assert answer.status_code == 201
        assert body == {
            "id": body["id"],
            "invitee": name,
            "role": "editor",
            "invited_by": "ada",
            "created_at": body["created_at"],
            "expires_at": body["expires_at"],
        }
        assert str(bob_user.pk) not in (body["id"], body["invitee"])
    assert tenants_of("bob") == ["globex"]
    assert bob.get("/api/v1/runs", HTTP_X_HATCHET_TENANT="acme").status_code == 403
    listed = admin.get("/api/v1/invitations").json()["results"]
    assert [i["invitee"] for i in listed] == ["nobody", "bob@globex.io", "bob"]


def test_the_invitee_sees_the_invitation_and_joins_only_by_accepting(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")
    zoe = signed_in("zoe", "Zoe@Example.com")
    by_name = invite(admin, "zoe", "viewer").json()
    by_email = invite(admin, "zoe@example.com", "editor").json()

    mine = zoe.get("/api/v1/session/invitations").json()["results"]
    assert tenants_of("zoe") == []
    accepted = zoe.post(f"/api/v1/session/invitations/{by_email['id']}/accept")

    assert [(i["id"], i["role"], i["invited_by"]) for i in mine] == [
        (by_email["id"], "editor", "ada"),
        (by_name["id"], "viewer", "ada"),
    ]
    assert mine[0]["tenant"] == {"id": str(tenant.id), "slug": "acme", "name": "Acme"}
    assert (accepted.status_code, accepted.json()) == (
        200,
        {"tenant": {"id": str(tenant.id), "slug": "acme", "name": "Acme"}, "role": "editor"},
    )
    assert tenants_of("zoe") == ["acme"]
    # Accepting the other invitation keeps the role she has.
    again = zoe.post(f"/api/v1/session/invitations/{by_name['id']}/accept")
    assert again.json()["role"] == "editor"
    assert zoe.get("/api/v1/session/invitations").json()["results"] == []
    assert admin.get("/api/v1/invitations").json()["results"] == []
    assert zoe.get("/api/v1/session").json()["memberships"][0]["role"] == "editor"


def test_declining_leaves_no_membership_and_ends_the_invitation(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")
    zoe = signed_in("zoe")
    invitation = invite(admin, "zoe").json()

    declined = zoe.post(f"/api/v1/session/invitations/{invitation['id']}/decline")
    accepted = zoe.post(f"/api/v1/session/invitations/{invitation['id']}/accept")

    assert declined.status_code == 204
    assert accepted.status_code == 404
    assert tenants_of("zoe") == []
    assert Invitation.objects.get().state == "declined"


def test_an_expired_or_revoked_invitation_is_gone(tenant: Tenant, settings: Any) -> None:
    settings.HATCHET_INVITATION_DAYS = 2
    admin = member_client(tenant, "admin", username="ada")
    zoe = signed_in("zoe")
    expiring = invite(admin, "zoe").json()
    revoked = invite(admin, "zoe@example.com").json()
    zoe_user = get_user_model().objects.get(username="zoe")
    zoe_user.email = "zoe@example.com"
    zoe_user.save()
    stored = Invitation.objects.get(pk=expiring["id"])
    assert timedelta(days=2) - (stored.expires_at - stored.created_at) < timedelta(seconds=1)

    Invitation.objects.filter(pk=expiring["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoking = admin.delete(f"/api/v1/invitations/{revoked['id']}")

    assert revoking.status_code == 204
    assert admin.delete(f"/api/v1/invitations/{revoked['id']}").status_code == 404
    assert zoe.get("/api/v1/session/invitations").json()["results"] == []
    assert admin.get("/api/v1/invitations").json()["results"] == []
    for invitation in (expiring, revoked):
        answer = zoe.post(f"/api/v1/session/invitations/{invitation['id']}/accept")
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
    assert tenants_of("zoe") == []


def test_only_admins_invite_and_only_the_invitee_answers(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    editor = member_client(tenant, "editor", username="ed")
    outsider = member_client(other_tenant, "admin", username="os")
    token = client_for(tenant)
    carol = signed_in("carol")

    refused = invite(editor, "carol")
    by_token = invite(token, "zoe")
    zoes = by_token.json()["id"]

    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert (by_token.status_code, by_token.json()["invited_by"]) == (201, None)
    assert carol.post(f"/api/v1/session/invitations/{zoes}/accept").status_code == 404
    assert outsider.delete(f"/api/v1/invitations/{zoes}").status_code == 404
    assert editor.get("/api/v1/invitations").status_code == 403
    signed_out = APIClient().get("/api/v1/session/invitations")
    assert (signed_out.status_code, signed_out.json()["error"]["code"]) == (
        401,
        "not_authenticated",
    )
    by_a_token = token.get("/api/v1/session/invitations")
    assert (by_a_token.status_code, by_a_token.json()["error"]["message"]) == (
        403,
        "Only the invited person answers an invitation.",
    )
    assert tenants_of("carol") == []


def test_inviting_needs_someone_and_a_role(tenant: Tenant) -> None:
    admin = member_client(tenant, "admin", username="ada")

    blank = invite(admin, "   ")
    bad_role = invite(admin, "zoe", "owner")
    again = [invite(admin, "zoe", role).json() for role in ("viewer", "admin")]

    assert (blank.status_code, blank.json()["error"]["message"]) == (
        400,
        "invitee: This field may not be blank.",
    )
    assert bad_role.json()["error"]["message"].startswith("role:")
    assert again[0]["id"] == again[1]["id"]
    assert Invitation.objects.get().role == "admin"
