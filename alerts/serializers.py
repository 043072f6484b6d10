"""The alerts' REST shapes: rules as they are given and shown, events with each
destination's outcome."""

from typing import Any
from urllib.parse import urlsplit

from django.core.validators import URLValidator
from rest_framework import serializers

from alerts.egress import refusal_without_lookup
from alerts.models import (
    AlertDelivery,
    AlertEvent,
    AlertEventKind,
    AlertKind,
    AlertRule,
    DeliveryChannel,
)
from hatchet.api import QuerySerializer, StringField
from workflows.serializers import StrictSerializer

MAX_DESTINATIONS = 10
# A week: the longest window, wait and cooldown a rule takes.
MAX_SECONDS = 7 * 24 * 3600
# Failed runs, or seconds of a queue wait (about 28 hours).
MAX_THRESHOLD = 100_000


def masked_url(url: str) -> str:
    """A webhook URL without its path, where Slack's carry the secret that posts."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


class NewAlertRuleSerializer(StrictSerializer):
    name = StringField(max_length=200)
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    workflow = StringField(
        max_length=200,
        allow_null=True,
        required=False,
        default=None,
        help_text="Only this workflow's runs, step runs or actions; all when null.",
    )
    threshold = serializers.IntegerField(
        min_value=1,
        max_value=MAX_THRESHOLD,
        default=1,
        help_text="failed_runs: how many failed runs within the window fire it; "
        "queue_wait: how many seconds a step run waits for a worker; workers_gone: unused.",
    )
    window_seconds = serializers.IntegerField(
        min_value=10,
        max_value=MAX_SECONDS,
        default=600,
        help_text="failed_runs: the window failures are counted in; workers_gone: how "
        "long ago a worker that stopped still counts as one that served its actions.",
    )
    cooldown_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_SECONDS,
        default=3600,
        help_text="No notification within this long of the last one; a rule still firing "
        "after it sends a reminder.",
    )
    webhook_urls = serializers.ListField(
        child=serializers.URLField(
            max_length=2000, validators=[URLValidator(schemes=["http", "https"])]
        ),
        max_length=MAX_DESTINATIONS,
        default=list,
        help_text="Slack-compatible incoming webhooks: each gets a POST of JSON with "
        "`text` and `blocks`.",
    )
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254), max_length=MAX_DESTINATIONS, default=list
    )
    is_enabled = serializers.BooleanField(default=True)

    def validate_webhook_urls(self, urls: list[str]) -> list[str]:
        refusals = {
            str(n): [why] for n, url in enumerate(urls) if (why := refusal_without_lookup(url))
        }
        if refusals:
            raise serializers.ValidationError(refusals)
        return urls

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["webhook_urls"] and not attrs["emails"]:
            raise serializers.ValidationError(
                {"webhook_urls": ["Give a webhook URL or an email address to send alerts to."]}
            )
        return attrs


class AlertRuleSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name", read_only=True, allow_null=True)
    webhook_urls = serializers.ListField(child=serializers.CharField(), read_only=True)
    emails = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "kind",
            "workflow",
            "threshold",
            "window_seconds",
            "cooldown_seconds",
            "webhook_urls",
            "emails",
            "is_enabled",
            "state",
            "fired_at",
            "notified_at",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: AlertRule) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("reveal_webhooks"):
            data["webhook_urls"] = [masked_url(url) for url in data["webhook_urls"]]
        return data


class AlertDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertDelivery
        fields = ["id", "channel", "destination", "status", "attempts", "error", "delivered_at"]
        read_only_fields = fields

    def to_representation(self, instance: AlertDelivery) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.channel == DeliveryChannel.WEBHOOK and not self.context.get("reveal_webhooks"):
            data["destination"] = masked_url(data["destination"])
        return data


class AlertEventSerializer(serializers.ModelSerializer):
    rule = serializers.UUIDField(source="rule_id", read_only=True, allow_null=True)
    deliveries = AlertDeliverySerializer(many=True, read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["id", "rule", "rule_name", "kind", "title", "message", "created_at", "deliveries"]
        read_only_fields = fields


class AlertEventFilterSerializer(QuerySerializer):
    rule = serializers.UUIDField(required=False, help_text="Only this rule's events.")
    kind = serializers.ChoiceField(choices=AlertEventKind.choices, required=False)
