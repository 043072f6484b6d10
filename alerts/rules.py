"""Alert rules as the API manages them: create, edit, delete, and the test delivery."""

from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction

from alerts.delivery import deliver_now
from alerts.evaluation import record_event
from alerts.models import AlertEvent, AlertEventKind, AlertRule, AlertState
from hatchet.errors import Conflict
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.models import Workflow

# Changing one of these changes what the rule measures: it starts again from ok.
CONDITION_FIELDS = {"kind", "workflow", "threshold", "window_seconds"}


def rule_or_404(tenant: Tenant, rule_id: UUID | str) -> AlertRule:
    return get_or_404(
        AlertRule.objects.filter(tenant=tenant).select_related("workflow"),
        "No such alert rule.",
        pk=rule_id,
    )


def workflow_named(tenant: Tenant, name: str | None) -> Workflow | None:
    if name is None:
        return None
    return get_or_404(
        Workflow.objects.filter(tenant=tenant),
        f"No workflow named {name!r}.",
        details={"workflow": name},
        name=name,
    )


def as_given(rule: AlertRule) -> dict[str, Any]:
    """The rule's fields as the API takes them: what an edit's changes apply to."""
    return {
        "name": rule.name,
        "kind": rule.kind,
        "workflow": rule.workflow.name if rule.workflow else None,
        "threshold": rule.threshold,
        "window_seconds": rule.window_seconds,
        "cooldown_seconds": rule.cooldown_seconds,
        "webhook_urls": rule.webhook_urls,
        "emails": rule.emails,
        "is_enabled": rule.is_enabled,
    }


def saved(rule: AlertRule, update_fields: list[str] | None = None) -> AlertRule:
    try:
        with transaction.atomic():
            rule.save(update_fields=update_fields)
    except IntegrityError:
        raise Conflict(f"An alert rule named {rule.name!r} exists.", {"name": rule.name}) from None
    return rule


def create_rule(tenant: Tenant, fields: dict[str, Any]) -> AlertRule:
    """`fields` as NewAlertRuleSerializer validated them."""
    workflow = workflow_named(tenant, fields["workflow"])
    return saved(AlertRule(tenant=tenant, **{**fields, "workflow": workflow}))


def edit_rule(tenant: Tenant, rule_id: UUID | str, fields: dict[str, Any]) -> AlertRule:
    """`fields`: the whole rule as NewAlertRuleSerializer validated it, edits applied."""
    rule = rule_or_404(tenant, rule_id)
    if any(
        fields[name] != value for name, value in as_given(rule).items() if name in CONDITION_FIELDS
    ):
        rule.state, rule.fired_at = AlertState.OK, None
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.workflow = workflow_named(tenant, fields["workflow"])
    # Not the evaluation's fields, which a tick may be writing meanwhile.
    return saved(rule, [*fields, "state", "fired_at"])


def delete_rule(tenant: Tenant, rule_id: UUID | str) -> None:
    rule_or_404(tenant, rule_id).delete()


def send_test(tenant: Tenant, rule_id: UUID | str) -> AlertEvent:
    """A test message to each of the rule's destinations, now, once: the event with
    each destination's outcome."""
    rule = rule_or_404(tenant, rule_id)
    event = record_event(
        rule,
        AlertEventKind.TEST,
        f"Test of {rule.name}",
        [f"A test of the alert rule {rule.name!r} ({rule.get_kind_display()}); it works."],
    )
    deliver_now(event)
    return event
