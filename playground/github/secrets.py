"""The GitHub connection's secrets (token, webhook secret), encrypted at rest with
HATCHET_ENCRYPTION_KEYS, and their rotation to a new first key."""

import base64
import hashlib
import logging
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from hatchet.errors import NotConfigured
from playground.models import GitHubConnection

logger = logging.getLogger(__name__)


def fernet_of(key: str) -> Fernet:
    """Any string the operator chose, made a Fernet key."""
    digest = hashlib.sha256(b"hatchet.github:" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet() -> MultiFernet | None:
    """The first key encrypts, every key decrypts; None without a key."""
    keys = settings.HATCHET_ENCRYPTION_KEYS
    return MultiFernet([fernet_of(key) for key in keys]) if keys else None


def encrypt(secret: str) -> str:
    if not secret:
        return ""
    keys = fernet()
    if keys is None:
        raise NotConfigured(
            "The server cannot store GitHub tokens or webhook secrets: HATCHET_ENCRYPTION_KEY "
            "is not set (the operator sets it)."
        )
    return keys.encrypt(secret.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    keys = fernet()
    try:
        if keys is None:
            raise InvalidToken
        return keys.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Stored under a key the server no longer has: as good as no secret.
        logger.warning(
            "playground: a stored GitHub secret does not decrypt with any of "
            "HATCHET_ENCRYPTION_KEYS; store it again"
        )
        return ""


@dataclass(frozen=True)
class Rotation:
    reencrypted: int
    undecryptable: int


def rotate_secrets() -> Rotation:
    """Every stored secret encrypted again with the first key, so that the keys after
    it can be dropped; those no key decrypts are left as they are and counted."""
    keys = fernet()
    if keys is None:
        raise NotConfigured("HATCHET_ENCRYPTION_KEY is not set: there is no key to rotate to.")
    reencrypted = undecryptable = 0
    fields = ["token_ciphertext", "webhook_secret_ciphertext"]
    for pk in GitHubConnection.objects.values_list("pk", flat=True):
        with transaction.atomic():
            connection = GitHubConnection.objects.select_for_update().get(pk=pk)
            for field in fields:
                ciphertext = getattr(connection, field)
                if not ciphertext:
                    continue
                try:
                    setattr(connection, field, keys.rotate(ciphertext.encode()).decode())
                    reencrypted += 1
                except InvalidToken:
                    undecryptable += 1
            connection.save(update_fields=fields)
    return Rotation(reencrypted, undecryptable)
