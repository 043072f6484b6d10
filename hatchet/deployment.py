"""Settings only fit for a developer's machine, refused where they would do harm: the
server, the engine loop and Celery refuse to start on them, and `manage.py check
--deploy` names what production still lacks; `manage.py check` names rates that do not
parse."""

from typing import Any

from django.conf import settings
from django.core.checks import Error as CheckError
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured

GENERATE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def refuse_unsafe_settings() -> None:
    """With DEBUG off, a process that serves or works must not sign sessions and CSRF
    tokens with the public development key (anyone could forge them)."""
    if settings.DEBUG:
        return
    if settings.SECRET_KEY == settings.HATCHET_DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set (the public development key is in use) and DEBUG is off: "
            f"set the SECRET_KEY environment variable to a long random value ({GENERATE_KEY}), "
            "or DEBUG=1 on a development machine (`manage.py dev` needs neither)."
        )


RATE_SETTINGS = ["HATCHET_SIGN_IN_RATE", "HATCHET_SIGN_IN_ADDRESS_RATE", "HATCHET_EVENT_PUSH_RATE"]


@register(Tags.security)
def check_rates(**kwargs: Any) -> list[CheckError]:
    """A throttle's rate that does not parse would fail every request it guards."""
    from hatchet.throttling import rate_setting

    errors = []
    for name in RATE_SETTINGS:
        try:
            rate_setting(name)
        except ValueError as error:
            errors.append(CheckError(f"{name}: {error}.", id="hatchet.E001"))
    return errors


@register(Tags.security, deploy=True)
def check_encryption_key(**kwargs: Any) -> list[CheckWarning]:
    if settings.HATCHET_ENCRYPTION_KEYS:
        return []
    return [
        CheckWarning(
            "HATCHET_ENCRYPTION_KEY is not set: GitHub tokens and webhook secrets cannot be "
            "stored.",
            hint=f"Set HATCHET_ENCRYPTION_KEY to a long random value ({GENERATE_KEY}).",
            id="hatchet.W001",
        )
    ]
