"""Sending an alert event to its destinations: a Slack-compatible webhook (JSON with
`text` and `blocks`) and email through Django's mail backend, each with a short
timeout; the outcome of every try is recorded on its delivery row."""

import smtplib
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F
from django.utils import timezone

from alerts import egress
from alerts.models import AlertDelivery, AlertEvent, DeliveryChannel, DeliveryStatus

# Slack's limits: a header block's text, a section block's text.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
# The first retry waits this long; each later one twice the one before.
FIRST_RETRY_DELAY = 5.0


class DeliveryFailed(Exception):
    """The destination did not take the message (the text says why)."""


def slack_payload(event: AlertEvent) -> dict[str, object]:
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": event.title[:HEADER_LIMIT]}}
    ]
    if event.message:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": event.message[:SECTION_LIMIT]}}
        )
    return {"text": f"{event.title}\n{event.message}".strip(), "blocks": blocks}


def post_webhook(url: str, event: AlertEvent) -> None:
    try:
        response = egress.post_json(url, slack_payload(event), settings.HATCHET_ALERT_TIMEOUT)
    except egress.Refused as refused:
        raise DeliveryFailed(f"Refused: {refused}") from None
    except (httpx.HTTPError, OSError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code}: {response.text[:200]}")


def send_email(address: str, event: AlertEvent) -> None:
    connection = get_connection(timeout=settings.HATCHET_ALERT_TIMEOUT)
    email = EmailMessage(
        subject=f"[Hatchet] {event.title}",
        body=f"{event.title}\n\n{event.message}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        connection=connection,
    )
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}") from None


def send(delivery: AlertDelivery) -> str:
    """Sends the delivery's event to its destination: "" or why it failed."""
    sender = post_webhook if delivery.channel == DeliveryChannel.WEBHOOK else send_email
    try:
        sender(delivery.destination, delivery.event)
    except DeliveryFailed as failure:
        return str(failure)
    return ""


def record_outcome(delivery: AlertDelivery, error: str, *, is_last_try: bool) -> None:
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
    elif is_last_try:
        delivery.status = DeliveryStatus.FAILED
    delivery.error = error
    delivery.save(update_fields=["status", "error", "delivered_at", "attempts"])


def retry_delay(attempt: int) -> float:
    return FIRST_RETRY_DELAY * 2 ** (attempt - 1)


def deliver(delivery_id: UUID | str, attempt: int) -> float | None:
    """Try `attempt` at a pending delivery: None when it is done (delivered, failed for
    good, or taken by another try), else the seconds to wait before the next one."""
    # The claim: a task that Celery hands out twice sends once.
    claimed = AlertDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt - 1
    ).update(attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = AlertDelivery.objects.select_related("event").get(pk=delivery_id)
    error = send(delivery)
    is_last_try = attempt >= settings.HATCHET_ALERT_DELIVERY_ATTEMPTS
    record_outcome(delivery, error, is_last_try=is_last_try)
    return retry_delay(attempt) if error and not is_last_try else None


def deliver_now(event: AlertEvent) -> list[AlertDelivery]:
    """One try at each of the event's deliveries, side by side, answered when all are
    done (at most the timeout): the test button's, whose caller reads the outcome."""
    deliveries = list(event.deliveries.select_related("event"))
    if not deliveries:
        return []
    with ThreadPoolExecutor(max_workers=min(len(deliveries), 8)) as pool:
        errors = list(pool.map(send, deliveries))
    for delivery, error in zip(deliveries, errors, strict=True):
        delivery.attempts = 1
        record_outcome(delivery, error, is_last_try=True)
    return deliveries
