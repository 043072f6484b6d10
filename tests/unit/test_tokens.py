"""API tokens: random, shown once, stored hashed, revocable; the CLI and bootstrap."""

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from hatchet.bootstrap import ensure_default_tenant
from hatchet.errors import Forbidden
from hatchet.models import APIToken, Membership, Tenant, TokenRole, hash_token
from hatchet.tokens import issue_token

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_hash(tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "ci", TokenRole.VIEWER)

    assert secret.startswith("hct_")
    assert len(secret) > 40
    assert token.token_hash == hash_token(secret) != secret
    assert secret not in str(APIToken.objects.filter(pk=token.pk).values().get())
    assert APIToken.authenticate(secret) == token


def test_revoked_and_unknown_tokens_do_not_authenticate(tenant: Tenant) -> None:
    token, secret = APIToken.issue(tenant, "ci", TokenRole.VIEWER)
    token.revoke()

    assert APIToken.authenticate(secret) is None
    assert APIToken.authenticate("hct_unknown") is None
    assert APIToken.authenticate("not-even-our-prefix") is None


def test_create_api_token_prints_the_token_alone(tenant: Tenant) -> None:
    out = StringIO()

    call_command("create_api_token", "--tenant", "acme", "--name", "deploy", stdout=out)

    secret = out.getvalue().strip()
    assert out.getvalue() == secret + "\n"
    token = APIToken.authenticate(secret)
    assert token is not None
    assert (token.tenant, token.name) == (tenant, "deploy")


@pytest.mark.usefixtures("db")
def test_create_api_token_refuses_an_unknown_tenant_unless_asked() -> None:
    with pytest.raises(CommandError, match="Tenant 'nope' does not exist"):
        call_command("create_api_token", "--tenant", "nope", stdout=StringIO())

    call_command("create_api_token", "--tenant", "nope", "--create-tenant", stdout=StringIO())
    assert Tenant.objects.filter(slug="nope").exists()


def test_add_member_creates_the_user_and_gives_the_role(tenant: Tenant) -> None:
    out = StringIO()

    call_command(
        "add_member",
        *("--tenant", "acme", "--username", "pm", "--password", "a long pass 42"),
        *("--role", "editor"),
        stdout=out,
    )

    assert out.getvalue() == "pm is editor in acme\n"
    membership = Membership.objects.get(user__username="pm")
    assert (membership.tenant, membership.role) == (tenant, "editor")
    assert membership.user.check_password("a long pass 42")
    with pytest.raises(CommandError, match="'pm' is already a member of this tenant"):
        call_command("add_member", "--tenant", "acme", "--username", "pm", stdout=StringIO())


@pytest.mark.usefixtures("db")
def test_bootstrap_is_idempotent_and_writes_the_secrets(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path

    first = ensure_default_tenant()
    second = ensure_default_tenant()

    assert (second.token, second.worker_token, second.password) == (
        first.token,
        first.worker_token,
        first.password,
    )
    assert (tmp_path / "token").read_text().strip() == first.token
    assert (tmp_path / "worker-token").read_text().strip() == first.worker_token
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "worker-token").stat().st_mode & 0o777 == 0o600
    assert Membership.objects.get(tenant__slug="default").role == "admin"
    assert sorted(APIToken.objects.values_list("name", "role")) == [
        ("dev", "admin"),
        ("example worker", "worker"),
    ]


@pytest.mark.parametrize("role", ["viewer", "editor", "admin", "worker"])
@pytest.mark.usefixtures("tenant")
def test_create_api_token_sets_the_role(role: str) -> None:
    out = StringIO()

    call_command("create_api_token", "--tenant", "acme", "--role", role, stdout=out)

    assert APIToken.authenticate(out.getvalue().strip()).role == role  # type: ignore[union-attr]


@pytest.mark.usefixtures("tenant")
def test_create_api_token_makes_a_viewer_unless_told() -> None:
    out = StringIO()

    call_command("create_api_token", "--tenant", "acme", stdout=out)

    assert APIToken.authenticate(out.getvalue().strip()).role == "viewer"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("issuer", "granted"),
    [
        ("admin", ["viewer", "editor", "admin", "worker"]),
        ("editor", ["viewer", "editor"]),
        ("viewer", ["viewer"]),
        ("worker", []),
    ],
)
def test_a_token_is_issued_with_no_role_above_its_issuers(
    tenant: Tenant, issuer: str, granted: list[str]
) -> None:
    allowed, refusals = [], []
    for role in TokenRole.values:
        try:
            issue_token(tenant, role, role, issuer_role=issuer)
            allowed.append(role)
        except Forbidden as refusal:
            refusals.append(refusal.message)

    assert allowed == granted
    assert refusals == [
        f"A caller with the {issuer} role cannot issue a token with the {role} role."
        for role in TokenRole.values
        if role not in granted
    ]
    assert sorted(APIToken.objects.values_list("role", flat=True)) == sorted(granted)
