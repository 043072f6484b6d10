"""Alert rules measured on the tick: thresholds, windows, the workflow filter, workers
gone and queue waits, one notification per firing across nodes, the cooldown and the
resolution."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from alerts.conditions import breach_of
from alerts.evaluation import evaluate_alert_rules, step_rule
from alerts.models import AlertDelivery, AlertEvent, AlertRule
from hatchet.models import Tenant
from tests.alerts.factories import alert_rule, at, fail_runs, rule_state, workflow_of
from tests.factories import connect_worker, start_run
from workers.models import Worker, WorkerStatus
from workflows.models import StepRun, WorkflowRun
from workflows.ticker import tick


@pytest.fixture(autouse=True)
def every_pass_evaluates(settings: Any) -> None:
    settings.HATCHET_ALERT_EVALUATION_INTERVAL = 0


def evaluate(at_offset: float = 0) -> list[AlertEvent]:
    sent: list[AlertEvent] = []
    evaluate_alert_rules(sent.append, timezone.now() + timedelta(seconds=at_offset))
    return sent


def kinds_and_titles(events: list[AlertEvent]) -> list[tuple[str, str]]:
    return [(event.kind, event.title) for event in events]


@pytest.mark.django_db
def test_failed_runs_fire_at_the_threshold_within_the_window(tenant: Tenant) -> None:
    rule = alert_rule(tenant, threshold=3, window_seconds=600)
    fail_runs(tenant, "Refund", 2)
    assert evaluate() == []

    fail_runs(tenant, "Refund", 1)
    (event,) = evaluate()

    assert (event.kind, event.title) == (
        "firing",
        "Firing: failed_runs rule: 3 failed runs in the last 10 min (threshold 3)",
    )
    assert event.message.splitlines()[0].startswith(
        "Refund: Step 'only' failed: ValueError: no such order http://127.0.0.1:8080/runs/"
    )
    assert len(event.message.splitlines()) == 3
    assert sorted(
        AlertDelivery.objects.filter(event=event).values_list("channel", "destination", "status")
    ) == [
        ("email", "oncall@example.com", "pending"),
        ("webhook", "http://127.0.0.1:9/hook", "pending"),
    ]
    assert at(rule).state == "firing"


@pytest.mark.django_db
def test_failures_older_than_the_window_do_not_count(tenant: Tenant) -> None:
    alert_rule(tenant, threshold=3, window_seconds=600)
    fail_runs(tenant, "Refund", 3)

    # Eleven minutes later the three failures are out of the ten-minute window.
    assert evaluate(at_offset=660) == []


@pytest.mark.django_db
def test_a_workflow_filter_counts_only_that_workflows_failures(tenant: Tenant) -> None:
    refunds = alert_rule(tenant, threshold=2, workflow=workflow_of(tenant, "Refund"))
    fail_runs(tenant, "Invoice", 3)
    assert evaluate() == []

    fail_runs(tenant, "Refund", 2)

    (event,) = evaluate()
    assert event.rule_id == refunds.pk
    assert event.title.endswith("2 failed runs of Refund in the last 10 min (threshold 2)")


@pytest.mark.django_db
def test_another_tenants_failures_do_not_count(tenant: Tenant, other_tenant: Tenant) -> None:
    alert_rule(tenant, threshold=1)
    fail_runs(other_tenant, "Refund", 2)

    assert evaluate() == []


@pytest.mark.django_db
def test_a_rule_in_breach_tells_once_then_reminds_after_its_cooldown_then_resolves(
    tenant: Tenant,
) -> None:
    rule = alert_rule(tenant, threshold=1, window_seconds=3600, cooldown_seconds=600)
    fail_runs(tenant, "Refund", 1)

    assert [e.kind for e in evaluate()] == ["firing"]
    # Still in breach, within the cooldown: nothing more.
    assert evaluate(at_offset=60) == []
    assert evaluate(at_offset=300) == []
    # The cooldown passed, still in breach: one reminder.
    reminder = evaluate(at_offset=601)
    assert kinds_and_titles(reminder) == [
        (
            "reminder",
            "Still firing: failed_runs rule: 1 failed runs in the last 1 h (threshold 1)",
        )
    ]
    assert evaluate(at_offset=700) == []
    # The failure leaves the window: resolved, and told.
    (resolved,) = evaluate(at_offset=3601)
    assert (resolved.kind, resolved.title) == ("resolved", "Resolved: failed_runs rule")
    assert resolved.message.startswith("Firing since ")
    assert at(rule).state == "ok"
    assert evaluate(at_offset=3700) == []
    assert AlertEvent.objects.filter(rule=rule).count() == 3


@pytest.mark.django_db
def test_a_breach_again_within_the_cooldown_fires_quietly_and_resolves_quietly(
    tenant: Tenant,
) -> None:
    rule = alert_rule(tenant, threshold=1, window_seconds=60, cooldown_seconds=3600)
    fail_runs(tenant, "Refund", 1)
    WorkflowRun.objects.update(finished_at=timezone.now() - timedelta(seconds=100))
    assert [e.kind for e in evaluate(at_offset=-90)] == ["firing"]
    assert [e.kind for e in evaluate(at_offset=-30)] == ["resolved"]

    # A new failure a minute and a half after the first notification: the rule fires
    # again, within the hour's cooldown.
    fail_runs(tenant, "Refund", 1)
    assert evaluate() == []
    assert at(rule).state == "firing"
    # Its quiet firing is not resolved out loud either.
    assert evaluate(at_offset=61) == []
    assert at(rule).state == "ok"


@pytest.mark.django_db
def test_two_nodes_that_read_the_same_rule_record_one_firing(tenant: Tenant) -> None:
    rule = alert_rule(tenant, threshold=1)
    fail_runs(tenant, "Refund", 1)
    now = timezone.now()
    # Both nodes read the rule before either moved it on.
    node_a, node_b = at(rule), at(rule)

    first = step_rule(node_a, breach_of(node_a, now), now)
    second = step_rule(node_b, breach_of(node_b, now), now)

    assert first is not None
    assert second is None
    assert AlertEvent.objects.filter(rule=rule).count() == 1
    assert rule_state(rule) == ("firing", now, now)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_concurrent_tick_passes_on_several_nodes_send_one_notification(tenant: Tenant) -> None:
    rules = [alert_rule(tenant, name=f"rule {n}", threshold=1) for n in range(5)]
    fail_runs(tenant, "Refund", 1)
    sent: list[AlertEvent] = []
    barrier = threading.Barrier(4)

    def node() -> None:
        barrier.wait()
        try:
            evaluate_alert_rules(sent.append)
        finally:
            connection.close()

    threads = [threading.Thread(target=node) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(event.rule_name for event in sent) == [rule.name for rule in rules]
    assert AlertEvent.objects.count() == 5


@pytest.mark.django_db
def test_a_rule_is_evaluated_once_per_interval_however_many_nodes_tick(
    tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_ALERT_EVALUATION_INTERVAL = 30
    rule = alert_rule(tenant, threshold=1)
    assert evaluate() == []
    fail_runs(tenant, "Refund", 1)

    # Measured 10 s ago: not due yet, whichever node ticks.
    assert evaluate(at_offset=10) == []
    assert [e.kind for e in evaluate(at_offset=31)] == ["firing"]
    assert at(rule).evaluated_at is not None


@pytest.mark.django_db
def test_a_disabled_rule_is_not_evaluated(tenant: Tenant) -> None:
    alert_rule(tenant, threshold=1, is_enabled=False)
    fail_runs(tenant, "Refund", 1)

    assert evaluate() == []


def stop(worker: Worker) -> None:
    Worker.objects.filter(pk=worker.pk).update(status=WorkerStatus.STOPPED)


@pytest.mark.django_db
def test_workers_gone_fires_when_an_action_served_lately_has_no_live_worker(
    tenant: Tenant,
) -> None:
    rule = alert_rule(tenant, "workers_gone", window_seconds=3600, cooldown_seconds=600)
    first = connect_worker(tenant, "billing-1", ["Refund:only", "Invoice:only"])
    second = connect_worker(tenant, "billing-2", ["Invoice:only"])
    assert evaluate() == []

    stop(first)
    (event,) = evaluate()
    assert event.title == "Firing: workers_gone rule: 1 actions have no live worker"
    assert event.message == "Refund:only: last served by billing-1"

    stop(second)
    (reminder,) = evaluate(at_offset=601)
    assert reminder.kind == "reminder"
    assert reminder.title.endswith("2 actions have no live worker")

    connect_worker(tenant, "billing-3", ["Refund:only", "Invoice:only"])
    assert [e.kind for e in evaluate(at_offset=700)] == ["resolved"]
    assert at(rule).state == "ok"


@pytest.mark.django_db
def test_workers_gone_forgets_workers_stopped_before_its_window(tenant: Tenant) -> None:
    rule = alert_rule(tenant, "workers_gone", window_seconds=600)
    worker = connect_worker(tenant, "billing-1", ["Refund:only"])
    stop(worker)

    assert evaluate(at_offset=601) == []
    assert at(rule).state == "ok"


@pytest.mark.django_db
def test_workers_gone_of_a_workflow_looks_at_that_workflows_actions_only(
    tenant: Tenant,
) -> None:
    alert_rule(tenant, "workers_gone", workflow=workflow_of(tenant, "Refund"))
    stop(connect_worker(tenant, "billing-1", ["Invoice:only"]))
    assert evaluate() == []

    stop(connect_worker(tenant, "billing-2", ["Refund:only"]))
    assert [e.message for e in evaluate()] == ["Refund:only: last served by billing-2"]


@pytest.mark.django_db
def test_queue_wait_fires_for_a_step_run_queued_longer_than_the_threshold(
    tenant: Tenant,
) -> None:
    alert_rule(tenant, "queue_wait", threshold=120)
    workflow_of(tenant, "Refund")
    run = start_run(tenant, "Refund")
    step_run = StepRun.objects.get(workflow_run=run)
    assert step_run.status == "QUEUED"

    assert evaluate(at_offset=100) == []
    (event,) = evaluate(at_offset=130)

    assert event.title == (
        "Firing: queue_wait rule: 1 step runs waiting for a worker longer than 2 min"
    )
    assert event.message == f"Refund:only: waiting 130 s http://127.0.0.1:8080/runs/{run.pk}"


@pytest.mark.django_db
def test_queue_wait_of_a_workflow_ignores_the_others_queue(tenant: Tenant) -> None:
    alert_rule(tenant, "queue_wait", threshold=60, workflow=workflow_of(tenant, "Refund"))
    workflow_of(tenant, "Invoice")
    start_run(tenant, "Invoice")

    assert evaluate(at_offset=120) == []


@pytest.mark.django_db(transaction=True)  # the tick closes old connections
def test_the_engine_tick_runs_the_alerts_pass(tenant: Tenant, settings: Any) -> None:
    settings.HATCHET_ALERT_EVALUATION_INTERVAL = 0
    alert_rule(tenant, threshold=1, webhook_urls=[], emails=["oncall@example.com"])
    fail_runs(tenant, "Refund", 1)

    counts = tick()

    assert (counts["alerts_fired"], counts["alerts_reminded"], counts["alerts_resolved"]) == (
        1,
        0,
        0,
    )
    assert AlertRule.objects.get().state == "firing"
