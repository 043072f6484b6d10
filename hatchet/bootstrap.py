"""First-run setup: a `default` tenant with an admin user, an admin API token for the
developer and a worker-scoped one for the example worker, and the keys of a developer's
processes."""

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from hatchet.models import APIToken, Membership, Role, Tenant, TokenRole


@dataclass(frozen=True)
class Bootstrap:
    tenant: Tenant
    username: str
    password: str
    token: str
    worker_token: str


def read_secret(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None


def write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    path.chmod(0o600)


def ensure_token(path: Path, tenant: Tenant, name: str, role: str, created_by: Any) -> str:
    """The token kept at `path` while it still works for `tenant` with `role`, else a
    new one written there."""
    token = read_secret(path)
    known = token and APIToken.authenticate(token)
    if token and known and known.tenant_id == tenant.id and known.role == role:
        return token
    _, token = APIToken.issue(tenant, name, role, created_by=created_by)
    write_secret(path, token)
    return token


def ensure_default_tenant(username: str = "admin") -> Bootstrap:
    """Idempotent: reuses the secrets in the data directory while they still work."""
    data_dir = Path(settings.DATA_DIR)
    password_path = data_dir / "admin-password"
    with transaction.atomic():
        tenant, _ = Tenant.objects.get_or_create(slug="default", defaults={"name": "Default"})
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        password = read_secret(password_path)
        if user is None or password is None or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_model.objects.create_superuser(username, "", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            write_secret(password_path, password)
        Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": Role.ADMIN})
        token = ensure_token(data_dir / "token", tenant, "dev", TokenRole.ADMIN, user)
        # The example worker runs with the least it needs: the worker scope.
        worker_token = ensure_token(
            data_dir / "worker-token", tenant, "example worker", TokenRole.WORKER, user
        )
    return Bootstrap(
        tenant=tenant,
        username=username,
        password=password,
        token=token,
        worker_token=worker_token,
    )


def kept_secret(path: Path, length: int) -> str:
    secret = read_secret(path)
    if not secret:
        secret = secrets.token_urlsafe(length)
        write_secret(path, secret)
    return secret


def development_keys() -> dict[str, str]:
    """The keys `manage.py dev` gives its processes where the environment names none
    (they refuse the public development SECRET_KEY): made once and kept in the data
    directory, so that sessions and stored GitHub secrets survive a restart."""
    data_dir = Path(settings.DATA_DIR)
    keys = {}
    if settings.SECRET_KEY == settings.HATCHET_DEV_SECRET_KEY:
        keys["SECRET_KEY"] = kept_secret(data_dir / "secret-key", 50)
    if not settings.HATCHET_ENCRYPTION_KEYS:
        keys["HATCHET_ENCRYPTION_KEY"] = kept_secret(data_dir / "encryption-key", 32)
    return keys
