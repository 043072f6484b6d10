"""The tenant's connection to a GitHub repository, and the token that serves it: the
connection's own, else the server's GITHUB_TOKEN where the operator allows it."""

import fnmatch
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hatchet.errors import InvalidRequest, NotFound
from hatchet.models import Tenant
from playground.github.secrets import decrypt, encrypt
from playground.models import GitHubConnection

REPOSITORY_NAME = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


def may_use_server_token(repository: str) -> bool:
    """Whether the operator lets GITHUB_TOKEN reach the repository (GitHub's names
    ignore case)."""
    return bool(settings.GITHUB_TOKEN) and any(
        fnmatch.fnmatchcase(repository.lower(), pattern.lower())
        for pattern in settings.HATCHET_GITHUB_TOKEN_REPOSITORIES
    )


def server_token_refusal(repository: str) -> str:
    if not settings.GITHUB_TOKEN:
        return "No GitHub token: store one on the connection"
    return (
        f"The server's GITHUB_TOKEN may not be used for {repository}: "
        "HATCHET_GITHUB_TOKEN_REPOSITORIES does not name it; store a token on the connection"
    )


def token_source(connection: GitHubConnection) -> str:
    if connection.token_ciphertext:
        return "stored"
    return "environment" if may_use_server_token(connection.repository) else "none"


def token_of(connection: GitHubConnection) -> str:
    """The connection's own token, else the server's for a repository it may serve."""
    if connection.token_ciphertext:
        return decrypt(connection.token_ciphertext)
    return settings.GITHUB_TOKEN if may_use_server_token(connection.repository) else ""


def save_connection(
    tenant: Tenant,
    *,
    repository: str,
    base_branch: str,
    strip_prefix: str = "",
    add_prefix: str = "",
    token: str | None = None,
    webhook_secret: str | None = None,
) -> GitHubConnection:
    """Connect the tenant's repository, or change the connection. A token or webhook
    secret of None keeps the stored one; "" removes it. A connection without a token
    of its own uses GITHUB_TOKEN, only for a repository the operator named in
    HATCHET_GITHUB_TOKEN_REPOSITORIES."""
    if not re.fullmatch(REPOSITORY_NAME, repository):
        raise InvalidRequest(
            f"repository must be owner/name, not '{repository}'.", {"field": "repository"}
        )
    with transaction.atomic():
        connection = GitHubConnection.objects.select_for_update().filter(
            tenant=tenant
        ).first() or GitHubConnection(tenant=tenant)
        connection.repository = repository
        connection.base_branch = base_branch
        connection.strip_prefix = strip_prefix.strip("/")
        connection.add_prefix = add_prefix.strip("/")
        if token is not None:
            connection.token_ciphertext = encrypt(token)
        if webhook_secret is not None:
            connection.webhook_secret_ciphertext = encrypt(webhook_secret)
        if not connection.token_ciphertext and not may_use_server_token(repository):
            raise InvalidRequest(
                server_token_refusal(repository) + ".",
                {"field": "token", "repository": repository},
            )
        connection.updated_at = timezone.now()
        connection.save()
    return connection


def connection_for(tenant: Tenant) -> GitHubConnection:
    connection = GitHubConnection.objects.filter(tenant=tenant).first()
    if connection is None:
        raise NotFound("No GitHub repository is connected; an admin connects one first.")
    return connection
