"""GitHub's webhook deliveries: believed only when signed with the secret of a
connection to the repository they name; a pull request event records its state."""

import hashlib
import hmac
import json

from playground.github.connections import may_use_server_token, server_token_refusal
from playground.github.secrets import decrypt
from playground.github.states import pull_state, record_pull_state
from playground.models import GitHubConnection


class BadSignature(Exception):
    """A delivery not signed with the webhook secret of a connection to the repository
    it names (or no repository event at all)."""


class ServerTokenRefused(Exception):
    """A webhook delivery for a connection that relies on GITHUB_TOKEN for a repository
    the operator no longer lets it serve."""


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def handle_webhook(body: bytes, signature: str, event: str) -> int:
    """A delivery of GitHub's webhook; only one signed with the secret of a connection
    to the repository it names is believed. Returns the requests updated."""
    try:
        payload = json.loads(body)
        repository = str(payload["repository"]["full_name"])
    except (ValueError, KeyError, TypeError):
        raise BadSignature("The delivery is not a signed repository event.") from None
    connections = GitHubConnection.objects.filter(repository__iexact=repository).exclude(
        webhook_secret_ciphertext=""
    )
    signed = [
        c
        for c in connections
        if (secret := decrypt(c.webhook_secret_ciphertext))
        and hmac.compare_digest(signature_of(secret, body), signature or "")
    ]
    if not signed:
        raise BadSignature("The signature does not match the webhook secret.")
    signed = [c for c in signed if c.token_ciphertext or may_use_server_token(c.repository)]
    if not signed:
        raise ServerTokenRefused(server_token_refusal(repository) + ".")
    if event != "pull_request":
        return 0
    pull = payload.get("pull_request") or {}
    if not isinstance(pull.get("number"), int):
        return 0
    state = pull_state(str(pull.get("state")), bool(pull.get("merged")))
    return sum(record_pull_state(c.tenant_id, pull["number"], state) for c in signed)
