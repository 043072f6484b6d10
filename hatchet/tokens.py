"""API tokens: issuing one with a role its issuer holds, and revoking one, which also
closes the sockets it opened."""

from django.db import transaction

from hatchet.caller_events import announce_caller_changed, token_group
from hatchet.errors import Forbidden
from hatchet.models import APIToken, Role, Tenant, TokenRole, role_allows


def may_grant(issuer_role: str, role: str) -> bool:
    """Whether a caller with `issuer_role` may issue a token with `role`: no higher
    than its own; the worker scope only by admins (it runs code on the tenant's work)."""
    if role == TokenRole.WORKER:
        return role_allows(issuer_role, Role.ADMIN)
    return role_allows(issuer_role, role)


def issue_token(
    tenant: Tenant, name: str, role: str, issuer_role: str, created_by=None
) -> tuple[APIToken, str]:
    """Issue a token (with its secret, shown once) on behalf of a caller with
    `issuer_role`; refuses a role above it."""
    if not may_grant(issuer_role, role):
        raise Forbidden(
            f"A caller with the {issuer_role} role cannot issue a token with the {role} role.",
            {"role": role},
        )
    return APIToken.issue(tenant, name, role, created_by)


def revoke_token(token: APIToken) -> None:
    """Revoke the token; every socket it opened is closed once this commits."""
    with transaction.atomic():
        token.revoke()
        announce_caller_changed(token_group(token.pk))
