"""Invitations to a tenant: an admin names a person by username or email address, and
the person becomes a member only by accepting. Inviting tells the admin nothing about
who holds that name (whether anyone does, their id or email)."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from hatchet.errors import InvalidRequest, NotFound
from hatchet.models import Invitation, InvitationState, Membership, Tenant


def pending_invitations_of(tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.pending()
        .filter(tenant=tenant)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def invitations_for(user: Any) -> QuerySet[Invitation]:
    """The user's pending invitations."""
    return (
        Invitation.objects.pending()
        .addressed_to(user)
        .select_related("tenant", "invited_by")
        .order_by("-created_at")
    )


def invite(tenant: Tenant, invitee: str, role: str, invited_by: Any = None) -> Invitation:
    """Invite `invitee` (a username or an email address); a pending invitation of the
    same person is renewed with the new role rather than doubled."""
    invitee = invitee.strip()
    if not invitee:
        raise InvalidRequest("invitee: name a username or an email address.", {"field": "invitee"})
    expires_at = timezone.now() + timedelta(days=settings.HATCHET_INVITATION_DAYS)
    with transaction.atomic():
        pending = (
            Invitation.objects.pending()
            .select_for_update()
            .filter(tenant=tenant, invitee__iexact=invitee)
            .first()
        )
        if pending is not None:
            pending.role, pending.expires_at, pending.invited_by = role, expires_at, invited_by
            pending.save(update_fields=["role", "expires_at", "invited_by"])
            return pending
        return Invitation.objects.create(
            tenant=tenant, invitee=invitee, role=role, invited_by=invited_by, expires_at=expires_at
        )


def revoke_invitation(tenant: Tenant, invitation_id: Any) -> None:
    revoked = (
        Invitation.objects.pending()
        .filter(tenant=tenant, pk=invitation_id)
        .update(state=InvitationState.REVOKED, answered_at=timezone.now())
    )
    if not revoked:
        raise NotFound("No pending invitation with this id.", {"id": str(invitation_id)})


def locked_invitation_for(user: Any, invitation_id: Any) -> Invitation:
    invitation = (
        invitations_for(user).select_for_update(of=("self",)).filter(pk=invitation_id).first()
    )
    if invitation is None:
        raise NotFound(
            "No pending invitation with this id for you (it may have expired or been revoked).",
            {"id": str(invitation_id)},
        )
    return invitation


def accept_invitation(user: Any, invitation_id: Any) -> Membership:
    """The user joins the tenant with the invitation's role; one already a member
    keeps the role they have."""
    with transaction.atomic():
        invitation = locked_invitation_for(user, invitation_id)
        invitation.state, invitation.answered_at = InvitationState.ACCEPTED, timezone.now()
        invitation.save(update_fields=["state", "answered_at"])
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    tenant=invitation.tenant, user=user, role=invitation.role
                )
        except IntegrityError:
            membership = Membership.objects.get(tenant=invitation.tenant, user=user)
    return membership


def decline_invitation(user: Any, invitation_id: Any) -> None:
    with transaction.atomic():
        invitation = locked_invitation_for(user, invitation_id)
        invitation.state, invitation.answered_at = InvitationState.DECLINED, timezone.now()
        invitation.save(update_fields=["state", "answered_at"])
