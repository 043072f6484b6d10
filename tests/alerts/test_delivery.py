"""Alert events delivered to real loopback receivers: a Slack-compatible webhook and an
SMTP server behind Django's SMTP backend; failures recorded and tried again a bounded
number of times."""

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from alerts.delivery import deliver
from alerts.evaluation import record_event
from alerts.models import AlertDelivery, AlertEvent, AlertEventKind
from bench.livestack import free_port
from hatchet.models import Tenant
from tests.alert_receivers import LoopbackSlack, LoopbackSMTP
from tests.alerts.factories import alert_rule

pytestmark = pytest.mark.django_db


def firing_event(tenant: Tenant, **fields: Any) -> AlertEvent:
    rule = alert_rule(tenant, **fields)
    return record_event(
        rule,
        AlertEventKind.FIRING,
        "Firing: refunds: 3 failed runs of Refund in the last 10 min (threshold 3)",
        ["Refund: ValueError: no such order http://127.0.0.1:8080/runs/1"],
    )


def only_delivery(event: AlertEvent) -> AlertDelivery:
    (delivery,) = AlertDelivery.objects.filter(event=event)
    return delivery


def outcome(delivery: AlertDelivery) -> tuple[str, int, str]:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts, delivery.error


def test_a_webhook_gets_slacks_text_and_blocks(tenant: Tenant, slack: LoopbackSlack) -> None:
    event = firing_event(tenant, webhook_urls=[slack.url()], emails=[])
    delivery = only_delivery(event)

    assert deliver(delivery.pk, 1) is None

    assert slack.posts == [
        (
            "/services/T0/B0/secret",
            {
                "text": "Firing: refunds: 3 failed runs of Refund in the last 10 min "
                "(threshold 3)\nRefund: ValueError: no such order http://127.0.0.1:8080/runs/1",
                "blocks": [
                    {
                        "type": "header",
                        "text": {
                            "type": "plain_text",
                            "text": "Firing: refunds: 3 failed runs of Refund in the last "
                            "10 min (threshold 3)",
                        },
                    },
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": "Refund: ValueError: no such order "
                            "http://127.0.0.1:8080/runs/1",
                        },
                    },
                ],
            },
        )
    ]
    assert outcome(delivery) == ("delivered", 1, "")


def test_an_email_goes_through_djangos_smtp_backend(tenant: Tenant, smtp: LoopbackSMTP) -> None:
    event = firing_event(tenant, webhook_urls=[], emails=["oncall@example.com"])
    delivery = only_delivery(event)

    assert deliver(delivery.pk, 1) is None

    (mail,) = smtp.mails
    assert (mail.sender, mail.recipients) == ("alerts@hatchet.test", ["oncall@example.com"])
    assert mail.message["Subject"] == (
        "[Hatchet] Firing: refunds: 3 failed runs of Refund in the last 10 min (threshold 3)"
    )
    assert "Refund: ValueError: no such order" in mail.message.get_content()
    assert outcome(delivery) == ("delivered", 1, "")


def test_a_failed_try_is_recorded_and_tried_again_later(
    tenant: Tenant, slack: LoopbackSlack
) -> None:
    slack.fail(500)
    delivery = only_delivery(firing_event(tenant, webhook_urls=[slack.url()], emails=[]))

    assert deliver(delivery.pk, 1) == 5.0
    assert outcome(delivery) == ("pending", 1, "HTTP 500: channel_is_archived")
    assert deliver(delivery.pk, 2) is None
    assert outcome(delivery) == ("delivered", 2, "")
    assert len(slack.posts) == 2


def test_a_delivery_fails_for_good_after_the_last_attempt(
    tenant: Tenant, slack: LoopbackSlack, settings: Any
) -> None:
    settings.HATCHET_ALERT_DELIVERY_ATTEMPTS = 3
    slack.fail(404, times=5)
    delivery = only_delivery(firing_event(tenant, webhook_urls=[slack.url()], emails=[]))

    delays = [deliver(delivery.pk, attempt) for attempt in (1, 2, 3)]

    assert delays == [5.0, 10.0, None]
    assert outcome(delivery) == ("failed", 3, "HTTP 404: channel_is_archived")
    assert deliver(delivery.pk, 4) is None
    assert len(slack.posts) == 3


def test_a_try_handed_out_twice_sends_once(tenant: Tenant, slack: LoopbackSlack) -> None:
    delivery = only_delivery(firing_event(tenant, webhook_urls=[slack.url()], emails=[]))

    assert deliver(delivery.pk, 1) is None
    assert deliver(delivery.pk, 1) is None

    assert len(slack.posts) == 1


def test_a_mail_server_that_does_not_answer_is_an_error_recorded(
    tenant: Tenant, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    delivery = only_delivery(firing_event(tenant, webhook_urls=[], emails=["a@example.com"]))

    assert deliver(delivery.pk, 1) == 5.0

    status, attempts, error = outcome(delivery)
    assert (status, attempts) == ("pending", 1)
    assert error.startswith("ConnectionRefusedError: ")


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A webhook URL whose server takes the connection and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"


def test_a_webhook_that_hangs_fails_after_the_timeout(
    tenant: Tenant, silent_listener: str, settings: Any
) -> None:
    settings.HATCHET_ALERT_TIMEOUT = 0.5
    delivery = only_delivery(firing_event(tenant, webhook_urls=[silent_listener], emails=[]))

    started = time.monotonic()
    deliver(delivery.pk, 1)

    assert time.monotonic() - started < 2
    assert outcome(delivery) == ("pending", 1, "ReadTimeout: timed out")
