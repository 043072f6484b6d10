"""The tick's pass over the alert rules: each enabled rule is measured by one node per
evaluation interval, and its state moves ok -> firing -> ok by compare-and-set, so that
of many nodes ticking at once one records the notification and sends it."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.conditions import Breach, breach_of, seconds_text
from alerts.models import (
    AlertDelivery,
    AlertEvent,
    AlertEventKind,
    AlertRule,
    AlertState,
    DeliveryChannel,
)

# The tick's counts, by the kind of event a pass recorded.
COUNT_KEYS = {
    AlertEventKind.FIRING: "alerts_fired",
    AlertEventKind.REMINDER: "alerts_reminded",
    AlertEventKind.RESOLVED: "alerts_resolved",
}


def record_event(rule: AlertRule, kind: AlertEventKind, title: str, lines: list[str]) -> AlertEvent:
    """The event and a pending delivery to each of the rule's destinations."""
    event = AlertEvent.objects.create(
        tenant_id=rule.tenant_id,
        rule=rule,
        rule_name=rule.name,
        kind=kind,
        title=title[:300],
        message="\n".join(lines),
    )
    AlertDelivery.objects.bulk_create(
        [
            AlertDelivery(event=event, channel=DeliveryChannel.WEBHOOK, destination=url)
            for url in rule.webhook_urls
        ]
        + [
            AlertDelivery(event=event, channel=DeliveryChannel.EMAIL, destination=address)
            for address in rule.emails
        ]
    )
    return event


def notification(
    rule: AlertRule, kind: AlertEventKind, breach: Breach | None, now: datetime
) -> tuple[str, list[str]]:
    """The title and lines of a firing or a reminder (what `breach` tells), or of a
    resolution (no breach)."""
    if breach is None:
        fired_at = rule.fired_at or now
        lasted = seconds_text((now - fired_at).total_seconds())
        return f"Resolved: {rule.name}", [
            f"Firing since {fired_at:%Y-%m-%d %H:%M:%S} UTC, for {lasted}."
        ]
    prefix = "Still firing" if kind == AlertEventKind.REMINDER else "Firing"
    return f"{prefix}: {rule.name}: {breach.title}", breach.lines


def step_rule(rule: AlertRule, breach: Breach | None, now: datetime) -> AlertEvent | None:
    """Moves the rule (as it was read) on by what was measured now; the event to send,
    if this move is one to tell and no other node moved the rule first.
    - ok, in breach: firing; told unless the rule told something within its cooldown
      (a flapping condition stays quiet until the cooldown ends).
    - firing, in breach: a reminder once the cooldown since the last notification ends.
    - firing, no breach: ok; told when its firing was told."""
    cooled = rule.notified_at is None or now - rule.notified_at >= timedelta(
        seconds=rule.cooldown_seconds
    )
    changes: dict[str, object]
    kind: AlertEventKind | None
    if breach is not None and rule.state == AlertState.OK:
        changes = {"state": AlertState.FIRING, "fired_at": now}
        kind = AlertEventKind.FIRING if cooled else None
    elif breach is not None and cooled:
        changes, kind = {}, AlertEventKind.REMINDER
    elif breach is None and rule.state == AlertState.FIRING:
        changes = {"state": AlertState.OK}
        was_told = (
            rule.notified_at is not None
            and rule.fired_at is not None
            and rule.notified_at >= rule.fired_at
        )
        kind = AlertEventKind.RESOLVED if was_told else None
    else:
        return None
    if kind is not None:
        changes["notified_at"] = now
    rule_as_read = AlertRule.objects.filter(
        pk=rule.pk, state=rule.state, fired_at=rule.fired_at, notified_at=rule.notified_at
    )
    with transaction.atomic():
        if rule_as_read.update(**changes) != 1:
            return None
        if kind is None:
            return None
        title, lines = notification(rule, kind, breach, now)
        event = record_event(rule, kind, title, lines)
    return event


def rules_due(now: datetime) -> list[AlertRule]:
    """The enabled rules not evaluated within the evaluation interval, each claimed
    for this pass (a node that loses the claim to another leaves the rule to it)."""
    interval = timedelta(seconds=settings.HATCHET_ALERT_EVALUATION_INTERVAL)
    due = AlertRule.objects.filter(is_enabled=True).filter(
        Q(evaluated_at__isnull=True) | Q(evaluated_at__lte=now - interval)
    )
    claimed = []
    for rule in due.select_related("workflow"):
        if AlertRule.objects.filter(pk=rule.pk, evaluated_at=rule.evaluated_at).update(
            evaluated_at=now
        ):
            claimed.append(rule)
    return claimed


def evaluate_alert_rules(
    send: Callable[[AlertEvent], None], now: datetime | None = None
) -> dict[str, int]:
    """One pass: each rule due is measured and moved on; each event it records is
    handed to `send` once committed."""
    now = now or timezone.now()
    counts = dict.fromkeys(COUNT_KEYS.values(), 0)
    for rule in rules_due(now):
        event = step_rule(rule, breach_of(rule, now), now)
        if event is None:
            continue
        counts[COUNT_KEYS[AlertEventKind(event.kind)]] += 1
        send(event)
    return counts
