"""The GitHub connection's secrets: encrypted under HATCHET_ENCRYPTION_KEY(S) and never
under SECRET_KEY, none stored without a key, and rotated to a new key by
`manage.py rotate_encryption_key`."""

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from hatchet.models import Tenant
from playground.github.connections import save_connection, token_of
from playground.github.secrets import decrypt
from playground.models import GitHubConnection
from tests.factories import member_client

pytestmark = pytest.mark.django_db

OLD, NEW = "the-old-encryption-key-0123456789", "the-new-encryption-key-9876543210"


def stored(tenant: Tenant) -> GitHubConnection:
    return GitHubConnection.objects.get(tenant=tenant)


def secrets_of(tenant: Tenant) -> tuple[str, str]:
    connection = stored(tenant)
    return (
        decrypt(connection.token_ciphertext),
        decrypt(connection.webhook_secret_ciphertext),
    )


def test_without_an_encryption_key_no_secret_is_stored(tenant: Tenant, settings: Any) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = []
    settings.SECRET_KEY = "a-secret-key-that-once-encrypted-them-all-0123456789"
    admin = member_client(tenant, "admin", username="ada")

    answer = admin.put(
        "/api/v1/playground/github-connection",
        {"repository": "acme/app", "base_branch": "main", "token": "ghp_secret"},
        format="json",
    )

    assert (answer.status_code, answer.json()) == (
        503,
        {
            "error": {
                "code": "not_configured",
                "message": "The server cannot store GitHub tokens or webhook secrets: "
                "HATCHET_ENCRYPTION_KEY is not set (the operator sets it).",
                "details": {},
            }
        },
    )
    assert not GitHubConnection.objects.exists()


def test_secrets_are_encrypted_under_the_encryption_key_not_the_secret_key(
    tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = [OLD]
    save_connection(
        tenant, repository="acme/app", base_branch="main", token="ghp_a", webhook_secret="hook"
    )

    assert secrets_of(tenant) == ("ghp_a", "hook")
    settings.HATCHET_ENCRYPTION_KEYS = [settings.SECRET_KEY]
    assert secrets_of(tenant) == ("", "")


def test_a_rotation_reencrypts_every_secret_with_the_first_key(
    tenant: Tenant, other_tenant: Tenant, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = [OLD]
    save_connection(
        tenant, repository="acme/app", base_branch="main", token="ghp_a", webhook_secret="hook"
    )
    save_connection(other_tenant, repository="globex/app", base_branch="main", token="ghp_b")
    before = stored(tenant).token_ciphertext

    settings.HATCHET_ENCRYPTION_KEYS = [NEW, OLD]
    assert secrets_of(tenant) == ("ghp_a", "hook")
    call_command("rotate_encryption_key")

    assert capsys.readouterr().out == "Re-encrypted 3 stored secrets with the first key.\n"
    assert stored(tenant).token_ciphertext != before
    settings.HATCHET_ENCRYPTION_KEYS = [NEW]
    assert secrets_of(tenant) == ("ghp_a", "hook")
    assert token_of(stored(other_tenant)) == "ghp_b"
    settings.HATCHET_ENCRYPTION_KEYS = [OLD]
    assert secrets_of(tenant) == ("", "")


def test_a_rotation_names_the_secrets_no_key_decrypts_and_keeps_them(
    tenant: Tenant, other_tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = ["a-key-that-was-lost-0123456789"]
    save_connection(tenant, repository="acme/app", base_branch="main", token="ghp_a")
    lost = stored(tenant).token_ciphertext
    settings.HATCHET_ENCRYPTION_KEYS = [NEW, OLD]
    save_connection(other_tenant, repository="globex/app", base_branch="main", token="ghp_b")

    with pytest.raises(CommandError) as refused:
        call_command("rotate_encryption_key")

    assert str(refused.value) == (
        "1 stored secrets decrypt with none of the keys: they were left as they are; an "
        "admin stores them again (Settings, GitHub)."
    )
    assert stored(tenant).token_ciphertext == lost
    assert token_of(stored(other_tenant)) == "ghp_b"


def test_a_rotation_needs_a_key(settings: Any) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = []

    with pytest.raises(CommandError, match="HATCHET_ENCRYPTION_KEY is not set"):
        call_command("rotate_encryption_key")
