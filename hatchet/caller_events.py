"""Telling open sockets that the caller they were authenticated as changed: a token
revoked, a member removed or given another role. Each socket joins its caller's group
(through the channel layer, so every server process hears it) and re-checks its caller
when the group announces a change."""

from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import post_delete

from hatchet.auth import Caller, token_caller
from hatchet.concurrency import submit
from hatchet.models import APIToken, Membership

CALLER_CHANGED = "caller.changed"


def token_group(token_id: Any) -> str:
    return f"caller.token.{token_id}"


def member_group(tenant_id: Any, user_id: Any) -> str:
    return f"caller.member.{tenant_id}.{user_id}"


def caller_group(caller: Caller) -> str:
    if caller.token is not None:
        return token_group(caller.token.pk)
    return member_group(caller.tenant.pk, caller.user_id)


def announce_caller_changed(group: str) -> None:
    """After the current transaction commits, tell the sockets in `group` to re-check
    their caller."""

    async def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            await layer.group_send(group, {"type": CALLER_CHANGED})

    transaction.on_commit(lambda: submit(send))


def current_caller(caller: Caller) -> Caller | None:
    """The caller as it stands now: None once its token is revoked or its membership
    is gone."""
    if caller.token is not None:
        token = (
            APIToken.objects.active().select_related("tenant").filter(pk=caller.token.pk).first()
        )
        return None if token is None else token_caller(token)
    membership = (
        Membership.objects.filter(tenant_id=caller.tenant.pk, user_id=caller.user_id)
        .select_related("tenant")
        .first()
    )
    if membership is None:
        return None
    return Caller(tenant=membership.tenant, role=membership.role, user_id=membership.user_id)


def on_membership_deleted(instance: Membership, **kwargs: Any) -> None:
    announce_caller_changed(member_group(instance.tenant_id, instance.user_id))


def on_token_deleted(instance: APIToken, **kwargs: Any) -> None:
    announce_caller_changed(token_group(instance.pk))


def announce_deletions() -> None:
    """A membership or token may also go with its user or tenant (the admin site
    deletes them): its sockets are told as when it is removed or revoked."""
    post_delete.connect(on_membership_deleted, sender=Membership, dispatch_uid="member-gone")
    post_delete.connect(on_token_deleted, sender=APIToken, dispatch_uid="token-gone")
