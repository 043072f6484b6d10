"""Fixtures of the alerts' tests: the loopback receivers (their network allowed), and
Django's real SMTP backend pointed at the loopback one."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.alert_receivers import LoopbackSlack, LoopbackSMTP

# The loopback receivers' network, which a deployment would not allow.
LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]


@pytest.fixture(autouse=True)
def loopback_allowed(settings: Any) -> None:
    settings.HATCHET_ALERT_ALLOWED_NETWORKS = LOOPBACK_NETWORKS


@pytest.fixture
def slack() -> Iterator[LoopbackSlack]:
    server = LoopbackSlack().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings: Any) -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.DEFAULT_FROM_EMAIL = "alerts@hatchet.test"
    yield server
    server.stop()
