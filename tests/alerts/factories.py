"""Alert rules and what they measure, made for the tests."""

from datetime import datetime
from typing import Any

from alerts.models import AlertRule
from hatchet.models import Tenant
from tests.factories import ScriptedWorker, register, start_run
from workflows.models import Workflow


def alert_rule(tenant: Tenant, kind: str = "failed_runs", **fields: Any) -> AlertRule:
    defaults: dict[str, Any] = {
        "name": f"{kind} rule",
        "threshold": 3,
        "window_seconds": 600,
        "cooldown_seconds": 3600,
        "webhook_urls": ["http://127.0.0.1:9/hook"],
        "emails": ["oncall@example.com"],
    }
    return AlertRule.objects.create(tenant=tenant, kind=kind, **{**defaults, **fields})


def workflow_of(tenant: Tenant, name: str) -> Workflow:
    if not Workflow.objects.filter(tenant=tenant, name=name).exists():
        register(tenant, name, steps=[{"name": "only"}])
    return Workflow.objects.get(tenant=tenant, name=name)


def fail_runs(tenant: Tenant, name: str, count: int) -> None:
    """`count` runs of the one-step workflow `name` fail through the engine."""
    workflow_of(tenant, name)
    worker = ScriptedWorker(tenant)
    for _ in range(count):
        start_run(tenant, name)
        worker.fail(f"{name}:only", "ValueError: no such order")


def at(rule: AlertRule) -> AlertRule:
    """The rule as it is now in the database."""
    return AlertRule.objects.select_related("workflow").get(pk=rule.pk)


def rule_state(rule: AlertRule) -> tuple[str, datetime | None, datetime | None]:
    now = at(rule)
    return now.state, now.fired_at, now.notified_at
