"""Alert rules of a tenant, their state between ticks, and the history of what they
sent where."""

import uuid

from django.db import models
from django.utils import timezone

from hatchet.models import Tenant
from workflows.models import Workflow


class AlertKind(models.TextChoices):
    # `threshold` workflow runs failed within `window_seconds`.
    FAILED_RUNS = "failed_runs"
    # An action that a worker served within `window_seconds` has no live worker.
    WORKERS_GONE = "workers_gone"
    # A step run has waited `threshold` seconds in the queue for a worker.
    QUEUE_WAIT = "queue_wait"


class AlertState(models.TextChoices):
    OK = "ok"
    FIRING = "firing"


class AlertRule(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    # Only this workflow's runs, step runs or actions; every workflow's when empty.
    workflow = models.ForeignKey(
        Workflow, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    threshold = models.PositiveIntegerField(default=1)
    window_seconds = models.PositiveIntegerField(default=600)
    # After a notification, the rule sends none (firing again, or a reminder that it
    # still fires) for this long: a flapping condition does not flood the channels.
    cooldown_seconds = models.PositiveIntegerField(default=3600)
    webhook_urls = models.JSONField(default=list)
    emails = models.JSONField(default=list)
    is_enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=8, choices=AlertState.choices, default=AlertState.OK)
    # When the rule last went from ok to firing; its state changes are compare-and-set
    # on these, so that one node of many notifies.
    fired_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    # When a node last claimed the rule's evaluation (alerts/evaluation.py).
    evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="alert_rule_name_per_tenant")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertEventKind(models.TextChoices):
    FIRING = "firing"
    # The rule still fires a cooldown after it last notified.
    REMINDER = "reminder"
    RESOLVED = "resolved"
    # The dashboard's "Send test".
    TEST = "test"


class AlertEvent(models.Model):
    """One notification of a rule, sent to each of its destinations."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    # Kept when the rule is deleted: the history says what was sent.
    rule = models.ForeignKey(
        AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    rule_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AlertEventKind.choices)
    title = models.CharField(max_length=300)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="alert_event_tenant")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class DeliveryChannel(models.TextChoices):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AlertDelivery(models.Model):
    """An event sent to one destination: its outcome, after `attempts` tries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=DeliveryChannel.choices)
    destination = models.CharField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel", "destination"]

    def __str__(self) -> str:
        return f"{self.channel} {self.destination} ({self.status})"
