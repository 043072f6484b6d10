"""The alerts resources: rules validated precisely, edited by admins and read by
everyone, the test delivery answered with each destination's outcome, and the events
the rules sent."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from alerts.models import AlertEvent, AlertRule
from hatchet.models import Tenant
from tests.alert_receivers import LoopbackSlack, LoopbackSMTP
from tests.factories import member_client, register

pytestmark = pytest.mark.django_db

RULES = "/api/v1/alerts/rules"
HOOK = "https://hooks.slack.com/services/T0/B0/secret"


def new_rule(**fields: Any) -> dict[str, Any]:
    return {
        "name": "refunds failing",
        "kind": "failed_runs",
        "threshold": 5,
        "window_seconds": 600,
        "webhook_urls": [HOOK],
        "emails": ["oncall@example.com"],
        **fields,
    }


def created(api: APIClient, **fields: Any) -> dict[str, Any]:
    response = api.post(RULES, new_rule(**fields), format="json")
    assert response.status_code == 201, response.json()
    return dict(response.json())


def test_an_admin_creates_a_rule_of_a_workflow(api: APIClient, tenant: Tenant) -> None:
    register(tenant, "Refund")

    rule = created(api, workflow="Refund")

    assert {k: v for k, v in rule.items() if k not in ("id", "created_at")} == {
        "name": "refunds failing",
        "kind": "failed_runs",
        "workflow": "Refund",
        "threshold": 5,
        "window_seconds": 600,
        "cooldown_seconds": 3600,
        "webhook_urls": [HOOK],
        "emails": ["oncall@example.com"],
        "is_enabled": True,
        "state": "ok",
        "fired_at": None,
        "notified_at": None,
    }
    assert AlertRule.objects.get().workflow.name == "Refund"  # type: ignore[union-attr]


def refusal(message: str) -> tuple[int, str, str]:
    return 400, "invalid_request", message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"webhook_urls": ["ftp://example.com/hook"]}, "webhook_urls: 0: Enter a valid URL."),
        ({"webhook_urls": ["javascript:alert(1)"]}, "webhook_urls: 0: Enter a valid URL."),
        (
            {"webhook_urls": "https://a.example/hook"},
            'webhook_urls: Expected a list of items but got type "str".',
        ),
        ({"emails": ["not-an-address"]}, "emails: 0: Enter a valid email address."),
        (
            {"emails": [f"p{n}@example.com" for n in range(11)]},
            "emails: Ensure this field has no more than 10 elements.",
        ),
        ({"threshold": 0}, "threshold: Ensure this value is greater than or equal to 1."),
        ({"threshold": 100_001}, "threshold: Ensure this value is less than or equal to 100000."),
        ({"threshold": 2.5}, "threshold: A valid integer is required."),
        (
            {"window_seconds": 7 * 24 * 3600 + 1},
            "window_seconds: Ensure this value is less than or equal to 604800.",
        ),
        (
            {"cooldown_seconds": -1},
            "cooldown_seconds: Ensure this value is greater than or equal to 0.",
        ),
        ({"kind": "cpu"}, 'kind: "cpu" is not a valid choice.'),
        (
            {"webhook_urls": [], "emails": []},
            "webhook_urls: Give a webhook URL or an email address to send alerts to.",
        ),
        ({"channel": "#ops"}, "Unknown field(s): channel."),
        ({"name": ""}, "name: This field may not be blank."),
    ],
)
def test_a_rule_that_cannot_work_is_refused_precisely(
    api: APIClient, fields: dict[str, Any], message: str
) -> None:
    response = api.post(RULES, new_rule(**fields), format="json")

    body = response.json()
    assert (response.status_code, body["error"]["code"], body["error"]["message"]) == refusal(
        message
    )
    assert not AlertRule.objects.exists()


def test_a_rule_of_an_unknown_workflow_is_not_found(api: APIClient) -> None:
    response = api.post(RULES, new_rule(workflow="Nope"), format="json")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "No workflow named 'Nope'.",
        "details": {"workflow": "Nope"},
    }


def test_a_second_rule_of_the_same_name_is_a_conflict(api: APIClient) -> None:
    created(api)

    response = api.post(RULES, new_rule(), format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert AlertRule.objects.count() == 1


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_create_edit_delete_and_test(tenant: Tenant, api: APIClient, role: str) -> None:
    rule = created(api)
    member = member_client(tenant, role)
    url = f"{RULES}/{rule['id']}"

    answers = [
        member.post(RULES, new_rule(name="mine"), format="json"),
        member.patch(url, {"threshold": 1}, format="json"),
        member.delete(url),
        member.post(f"{url}/test"),
    ]

    assert [(a.status_code, a.json()["error"]["message"]) for a in answers] == [
        (403, "This needs the admin role.")
    ] * 4
    assert AlertRule.objects.get().threshold == 5


def test_viewers_read_rules_without_the_webhooks_secret(tenant: Tenant, api: APIClient) -> None:
    rule = created(api)
    viewer = member_client(tenant, "viewer")

    listed = viewer.get(RULES).json()["results"]
    one = viewer.get(f"{RULES}/{rule['id']}").json()

    assert [r["webhook_urls"] for r in listed] == [["https://hooks.slack.com/…"]]
    assert one["webhook_urls"] == ["https://hooks.slack.com/…"]
    assert one["emails"] == ["oncall@example.com"]
    # Admins see it on the rule, to edit it.
    assert api.get(f"{RULES}/{rule['id']}").json()["webhook_urls"] == [HOOK]


def test_an_edit_of_what_a_rule_measures_starts_it_again_from_ok(api: APIClient) -> None:
    rule = created(api)
    AlertRule.objects.update(state="firing")

    renamed = api.patch(f"{RULES}/{rule['id']}", {"name": "refunds"}, format="json").json()
    assert (renamed["name"], renamed["state"]) == ("refunds", "firing")

    edited = api.patch(f"{RULES}/{rule['id']}", {"threshold": 2}, format="json").json()
    assert (edited["threshold"], edited["state"], edited["webhook_urls"]) == (2, "ok", [HOOK])


def test_an_edit_is_validated_as_the_whole_rule(api: APIClient) -> None:
    rule = created(api)

    emptied = api.patch(f"{RULES}/{rule['id']}", {"webhook_urls": [], "emails": []}, format="json")
    bad = api.patch(f"{RULES}/{rule['id']}", {"emails": ["nope"]}, format="json")

    assert emptied.json()["error"]["message"] == (
        "webhook_urls: Give a webhook URL or an email address to send alerts to."
    )
    assert bad.json()["error"]["message"] == "emails: 0: Enter a valid email address."
    assert AlertRule.objects.get().emails == ["oncall@example.com"]


def test_a_deleted_rules_events_stay_in_the_history(api: APIClient) -> None:
    rule = created(api, webhook_urls=[], emails=["nobody@example.com"])
    api.post(f"{RULES}/{rule['id']}/test")

    assert api.delete(f"{RULES}/{rule['id']}").status_code == 204

    assert not AlertRule.objects.exists()
    assert list(AlertEvent.objects.values_list("rule", "rule_name", "kind")) == [
        (None, "refunds failing", "test")
    ]


def test_the_test_button_answers_each_destinations_outcome(
    api: APIClient, slack: LoopbackSlack, smtp: LoopbackSMTP
) -> None:
    # Nothing listens there; it sorts after the loopback Slack.
    broken = "http://127.0.0.2:9/hook"
    rule = created(api, webhook_urls=[slack.url(), broken], emails=["oncall@example.com"])

    response = api.post(f"{RULES}/{rule['id']}/test")

    assert response.status_code == 200
    answer = response.json()
    assert (answer["kind"], answer["title"], answer["rule"]) == (
        "test",
        "Test of refunds failing",
        rule["id"],
    )
    outcomes = [
        (d["channel"], d["destination"], d["status"], d["attempts"], d["error"][:22])
        for d in answer["deliveries"]
    ]
    assert outcomes == [
        ("email", "oncall@example.com", "delivered", 1, ""),
        ("webhook", slack.url(), "delivered", 1, ""),
        ("webhook", broken, "failed", 1, "ConnectError: [Errno 1"),
    ]
    assert slack.texts() == [
        "Test of refunds failing\n"
        "A test of the alert rule 'refunds failing' (Failed Runs); it works."
    ]
    assert smtp.subjects() == ["[Hatchet] Test of refunds failing"]


def test_events_are_listed_newest_first_and_filtered_by_rule(api: APIClient) -> None:
    first = created(api, name="first", webhook_urls=[], emails=["a@example.com"])
    second = created(api, name="second", webhook_urls=[], emails=["b@example.com"])
    for rule in (first, second, first):
        api.post(f"{RULES}/{rule['id']}/test")

    every = api.get("/api/v1/alerts/events").json()["results"]
    of_first = api.get(f"/api/v1/alerts/events?rule={first['id']}").json()["results"]
    unknown = api.get("/api/v1/alerts/events?severity=high")

    assert [e["rule_name"] for e in every] == ["first", "second", "first"]
    assert [e["rule_name"] for e in of_first] == ["first", "first"]
    assert [d["status"] for d in every[0]["deliveries"]] == ["delivered"]
    assert unknown.status_code == 400
