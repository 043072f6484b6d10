"""Fixtures of the alerts' tests: the loopback receivers, and Django's real SMTP
backend pointed at the loopback one."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.alert_receivers import LoopbackSlack, LoopbackSMTP


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
