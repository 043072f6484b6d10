"""Celery tasks of the alerts: each delivery of an event, tried again after a delay
that doubles until the last attempt; and the tick's pass that hands them out."""

from functools import partial

from celery import shared_task
from django.db import transaction

from alerts.delivery import deliver
from alerts.evaluation import evaluate_alert_rules
from alerts.models import AlertEvent
from hatchet.celery import enqueue


@shared_task(name="alerts.deliver", ignore_result=True)
def deliver_alert(delivery_id: str, attempt: int = 1) -> None:
    delay = deliver(delivery_id, attempt)
    if delay is not None:
        enqueue(deliver_alert, delivery_id, attempt + 1, countdown=delay)


def send_event(event: AlertEvent) -> None:
    """Each of the event's deliveries in the background, once the event is committed:
    the tick waits for no webhook or mail server."""
    for delivery_id in event.deliveries.values_list("id", flat=True):
        transaction.on_commit(partial(enqueue, deliver_alert, str(delivery_id)))


def alerts_pass() -> dict[str, int]:
    return evaluate_alert_rules(send_event)
