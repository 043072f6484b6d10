"""Tenants, their members and the API tokens that act for them."""

import hashlib
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from hatchet.db import harmless_to_repeat

TOKEN_PREFIX = "hct_"  # noqa: S105 (a prefix, not a secret)


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    # Days its finished runs and its events are kept (workflows/engine/retention.py):
    # None follows HATCHET_RETENTION_DAYS, 0 keeps them forever.
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.slug

    @property
    def effective_retention_days(self) -> int:
        if self.retention_days is None:
            return int(settings.HATCHET_RETENTION_DAYS)
        return self.retention_days


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


class TokenRole(models.TextChoices):
    """What an API token may do: a member's role, or the worker scope (register workers
    and workflow definitions, report results; nothing else)."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    WORKER = "worker"


ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


def role_allows(role: str, required: str) -> bool:
    """Whether a member's or token's `role` has the member role `required`; the worker
    scope has none of them."""
    return role in ROLE_RANK and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(required)]


def runs_workers(role: str) -> bool:
    """Whether `role` may serve /ws/worker: the worker scope, and admins (every token
    was an admin before tokens had roles, and their workers keep working)."""
    return role == TokenRole.WORKER or role_allows(role, Role.ADMIN)


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="one_membership_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"

    def allows(self, role: str) -> bool:
        return role_allows(self.role, role)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class APITokenQuerySet(models.QuerySet["APIToken"]):
    def active(self) -> "APITokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class APIToken(models.Model):
    """A secret that acts for its tenant with its role; only its hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=TokenRole.choices, default=TokenRole.VIEWER)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APITokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def issue(cls, tenant: Tenant, name: str, role: str, created_by=None) -> tuple["APIToken", str]:
        """Create a token and return it with its secret, which is never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            tenant=tenant,
            name=name,
            role=role,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(raw),
            created_by=created_by,
        )
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> "APIToken | None":
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        token = (
            cls.objects.active().select_related("tenant").filter(token_hash=hash_token(raw)).first()
        )
        if token is not None and (
            token.last_used_at is None or (timezone.now() - token.last_used_at).total_seconds() > 60
        ):
            # Throttled so a busy client does not turn every request into a write.
            with harmless_to_repeat():
                cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class InvitationState(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> "InvitationQuerySet":
        """Neither answered, revoked nor expired."""
        return self.filter(state=InvitationState.PENDING, expires_at__gt=timezone.now())

    def addressed_to(self, user: Any) -> "InvitationQuerySet":
        """Those naming the user's username, or its email address (case aside)."""
        named = models.Q(invitee=user.get_username())
        if user.email:
            named |= models.Q(invitee__iexact=user.email)
        return self.filter(named)


class Invitation(models.Model):
    """An admin's offer of a role in the tenant to a person named by username or email
    address; the person becomes a member only by accepting it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    invitee = models.CharField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    state = models.CharField(
        max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["invitee", "state"], name="invitation_invitee_state")]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.tenant} ({self.state})"


class TaskOutcomeCount(models.Model):
    """How many Celery tasks of a name ended with an outcome, on every worker since the
    database was made (a counter, for /metrics)."""

    task = models.CharField(max_length=200)
    outcome = models.CharField(max_length=16)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "outcome"], name="task_outcome_unique")
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.outcome}: {self.count}"
