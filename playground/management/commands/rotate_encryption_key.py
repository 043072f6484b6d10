"""Encrypt every stored GitHub secret again with the first of HATCHET_ENCRYPTION_KEYS."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hatchet.errors import NotConfigured
from playground.github.secrets import rotate_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored GitHub tokens and webhook secrets with the first key of "
        "HATCHET_ENCRYPTION_KEYS (new first, then the old ones); afterwards the old keys "
        "can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rotation = rotate_secrets()
        except NotConfigured as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Re-encrypted {rotation.reencrypted} stored secrets with the first key.")
        if rotation.undecryptable:
            raise CommandError(
                f"{rotation.undecryptable} stored secrets decrypt with none of the keys: they "
                "were left as they are; an admin stores them again (Settings, GitHub)."
            )
