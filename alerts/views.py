"""The REST resources of alerts: rules (admins edit them and send tests, everyone
reads them) and the events they sent."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import rules
from alerts.models import AlertEvent, AlertRule
from alerts.serializers import (
    AlertEventFilterSerializer,
    AlertEventSerializer,
    AlertRuleSerializer,
    NewAlertRuleSerializer,
)
from hatchet.api import validated
from hatchet.auth import caller_of, tenant_of
from hatchet.models import Role, role_allows
from hatchet.views import TenantViewSet


def shown_to(request: Request) -> dict[str, Any]:
    """A webhook's URL is its secret: only admins, who may change it, see it whole, and
    only on one rule (lists show none whole)."""
    return {"reveal_webhooks": role_allows(caller_of(request).role, Role.ADMIN)}


@extend_schema_view(list=extend_schema(responses=AlertRuleSerializer(many=True)))
class AlertRuleViewSet(TenantViewSet):
    """Alert rules of the tenant: on failed runs, workers gone and queue waits, sent
    to Slack-compatible webhooks and email addresses."""

    queryset = AlertRule.objects.select_related("workflow")
    write_role = Role.ADMIN

    def get_serializer_class(self) -> Any:
        return AlertRuleSerializer

    @extend_schema(request=NewAlertRuleSerializer, responses={201: AlertRuleSerializer})
    def create(self, request: Request) -> Response:
        rule = rules.create_rule(
            tenant_of(request), validated(NewAlertRuleSerializer, request.data)
        )
        return Response(
            AlertRuleSerializer(rule, context=shown_to(request)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=AlertRuleSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        rule = rules.rule_or_404(tenant_of(request), pk)
        return Response(AlertRuleSerializer(rule, context=shown_to(request)).data)

    @extend_schema(
        request=NewAlertRuleSerializer,
        responses=AlertRuleSerializer,
        description="Change any of its fields; a change of what it measures (kind, "
        "workflow, threshold, window) starts it again from ok.",
    )
    def partial_update(self, request: Request, pk: Any) -> Response:
        tenant = tenant_of(request)
        rule = rules.rule_or_404(tenant, pk)
        changes = request.data if isinstance(request.data, dict) else {}
        fields = validated(NewAlertRuleSerializer, {**rules.as_given(rule), **changes})
        edited = rules.edit_rule(tenant, pk, fields)
        return Response(AlertRuleSerializer(edited, context=shown_to(request)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        rules.delete_rule(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=AlertEventSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: Any) -> Response:
        """Send a test message to each of the rule's destinations now (one try each,
        a few seconds at most) and answer each destination's outcome."""
        event = rules.send_test(tenant_of(request), pk)
        return Response(AlertEventSerializer(event, context=shown_to(request)).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[AlertEventFilterSerializer], responses=AlertEventSerializer(many=True)
    )
)
class AlertEventViewSet(TenantViewSet):
    """What the alert rules sent, newest first, with each destination's outcome."""

    queryset = AlertEvent.objects.prefetch_related("deliveries")
    filter_class = AlertEventFilterSerializer
    serializer_class = AlertEventSerializer

    def get_queryset(self) -> QuerySet[AlertEvent]:
        return super().get_queryset().order_by("-created_at")
