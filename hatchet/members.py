"""Members of a tenant and their roles: creating, changing and removing them (people
who already have a user join by invitation, hatchet/invitations.py).

A tenant always keeps at least one admin, so that somebody can still manage it. The
sockets a member has open re-check their caller after a change or removal.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from hatchet.caller_events import announce_caller_changed, member_group
from hatchet.errors import Conflict, InvalidRequest, NotFound
from hatchet.models import Membership, Role, Tenant


def members_of(tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("created_at")


def create_member(
    tenant: Tenant, username: str, role: str, password: str, email: str = ""
) -> Membership:
    """A new user, a member at once (the admin hands the password over). A taken
    username is refused: its holder is invited instead and joins only by accepting."""
    user_model = get_user_model()
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as error:
        raise InvalidRequest(
            f"password: {' '.join(error.messages)}", {"password": error.messages}
        ) from None
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, email=email, password=password)
            return Membership.objects.create(tenant=tenant, user=user, role=role)
    except IntegrityError:
        raise Conflict(
            f"The username '{username}' is taken: invite its holder instead, who joins by "
            "accepting.",
            {"username": username},
        ) from None


def add_member(
    tenant: Tenant, username: str, role: str, password: str | None = None, email: str = ""
) -> Membership:
    """The operator's way (manage.py add_member): add an existing user, or create one
    when a password is given."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        if not password:
            raise InvalidRequest(
                f"There is no user '{username}'; give a password to create one.",
                {"username": username},
            )
        return create_member(tenant, username, role, password, email)
    try:
        with transaction.atomic():
            return Membership.objects.create(tenant=tenant, user=user, role=role)
    except IntegrityError:
        raise Conflict(
            f"'{username}' is already a member of this tenant.", {"username": username}
        ) from None


def locked_member(tenant: Tenant, membership_id: Any) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(tenant=tenant, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound("Member not found.", {"id": str(membership_id)})
    return membership


def keep_an_admin(tenant: Tenant, leaving: Membership) -> None:
    """Refuse a change that would leave the tenant without an admin."""
    if leaving.role != Role.ADMIN:
        return
    admins = Membership.objects.select_for_update().filter(tenant=tenant, role=Role.ADMIN)
    if not admins.exclude(pk=leaving.pk).exists():
        raise Conflict("A tenant needs at least one admin.", {"id": leaving.pk})


def change_role(tenant: Tenant, membership_id: Any, role: str) -> Membership:
    with transaction.atomic():
        membership = locked_member(tenant, membership_id)
        if role != Role.ADMIN:
            keep_an_admin(tenant, membership)
        membership.role = role
        membership.save(update_fields=["role"])
        announce_caller_changed(member_group(tenant.pk, membership.user_id))
    return membership


def remove_member(tenant: Tenant, membership_id: Any) -> None:
    with transaction.atomic():
        membership = locked_member(tenant, membership_id)
        keep_an_admin(tenant, membership)
        membership.delete()  # its sockets are told on commit (caller_events)
