"""Alerts end to end: a real server ticking, a real worker whose workflow fails, and a
failed_runs rule that reaches a loopback Slack webhook and a loopback SMTP server
through Django's SMTP backend (by a Celery worker with Redis, in the server embedded)."""

import signal
from collections.abc import Iterator

import pytest

from tests.alert_receivers import LoopbackSlack, LoopbackSMTP
from tests.e2e.live import (
    LiveServer,
    serving,
    start_celery,
    stop_process,
    wait_for,
    wait_for_status,
    worker_named,
)


@pytest.fixture
def receivers() -> Iterator[tuple[LoopbackSlack, LoopbackSMTP]]:
    slack, smtp = LoopbackSlack().start(), LoopbackSMTP().start()
    yield slack, smtp
    slack.stop()
    smtp.stop()


@pytest.fixture
def alerting_server(receivers: tuple[LoopbackSlack, LoopbackSMTP]) -> Iterator[LiveServer]:
    _, smtp = receivers
    with serving(
        "hatchet_e2e_alerts",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        DEFAULT_FROM_EMAIL="alerts@hatchet.test",
        HATCHET_ALERT_EVALUATION_INTERVAL="0.5",
        HATCHET_ALERT_ALLOWED_NETWORKS="127.0.0.0/8",
    ) as server:
        processes = []
        if server.backend == "services":
            processes.append(start_celery(server, "worker", "--pool", "solo", "--without-mingle"))
        worker = server.spawn(
            *("-m", "tests.e2e.worker_app", "--name", "alerts-worker", "--slots", "2"),
            HATCHET_SERVER_URL=server.url,
            HATCHET_TOKEN=server.token,
        )
        processes.append(worker)
        wait_for(lambda: worker_named(server, "alerts-worker", worker), timeout=20)
        yield server
        for process in processes:
            stop_process(process, signal.SIGTERM)


def test_a_failing_workflow_fires_its_rule_to_slack_and_email(
    alerting_server: LiveServer, receivers: tuple[LoopbackSlack, LoopbackSMTP]
) -> None:
    slack, smtp = receivers
    with alerting_server.api() as api:
        rule = api.post(
            "/alerts/rules",
            json={
                "name": "always failing",
                "kind": "failed_runs",
                "workflow": "AlwaysFails",
                "threshold": 1,
                "window_seconds": 600,
                "webhook_urls": [slack.url()],
                "emails": ["oncall@example.com"],
            },
        )
        assert rule.status_code == 201, rule.text
    # Another workflow's runs do not fire it.
    quick = alerting_server.client().admin.run_workflow("Quick", {})
    wait_for_status(alerting_server, quick.workflow_run_id, "SUCCEEDED")

    run = alerting_server.client().admin.run_workflow("AlwaysFails", {})
    wait_for_status(alerting_server, run.workflow_run_id, "FAILED")

    wait_for(lambda: slack.posts and smtp.mails, timeout=30)
    title = "Firing: always failing: 1 failed runs of AlwaysFails in the last 10 min (threshold 1)"
    (text,) = slack.texts()
    assert text.splitlines()[0] == title
    assert f"/runs/{run.workflow_run_id}" in text
    (mail,) = smtp.mails
    assert (mail.sender, mail.recipients) == ("alerts@hatchet.test", ["oncall@example.com"])
    assert mail.message["Subject"] == f"[Hatchet] {title}"
    with alerting_server.api() as api:
        events = wait_for(
            lambda: (
                (listed := api.get("/alerts/events").json()["results"])
                and all(d["status"] == "delivered" for d in listed[0]["deliveries"])
                and listed
            )
        )
        state = api.get(f"/alerts/rules/{rule.json()['id']}").json()["state"]
    assert [(e["kind"], e["title"]) for e in events] == [("firing", title)]
    assert state == "firing"
