"""Events: matching keys to on_events patterns, pushing, all-or-nothing batches, replay."""

from typing import Any

import pytest
from django.test import override_settings

from hatchet.errors import InvalidDefinition, InvalidRequest, PayloadTooLarge
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.events import (
    NewEvent,
    pattern_matches,
    push_events,
    replay_event,
    workflows_listening,
)
from workflows.handlers import push
from workflows.models import Event, EventTrigger, WorkflowRun

pytestmark = pytest.mark.django_db

ONE_STEP = [{"name": "only"}]


def listens(tenant: Tenant, name: str, *patterns: str) -> None:
    register_workflow(tenant, definition(name, ONE_STEP, on_events=list(patterns)))


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("user:created", "user:created", True),
        ("user:*", "user:created", True),
        ("user:*", "user", False),
        ("user:*", "user:a:b", False),
        ("*:created", "order:created", True),
        ("user:*:done", "user:42:done", True),
        ("user:created", "user:deleted", False),
    ],
)
def test_a_wildcard_stands_for_exactly_one_segment(pattern: str, key: str, matches: bool) -> None:
    assert pattern_matches(pattern, key) is matches


def test_only_the_latest_versions_patterns_listen(tenant: Tenant) -> None:
    listens(tenant, "Welcome", "user:created", "user:*")
    listens(tenant, "Audit", "*:created")
    listens(tenant, "Billing", "invoice:paid")
    assert workflows_listening(tenant, ["user:created"]) == {"user:created": ["Audit", "Welcome"]}

    listens(tenant, "Welcome", "user:invited")

    assert workflows_listening(tenant, ["user:created", "user:invited"]) == {
        "user:created": ["Audit"],
        "user:invited": ["Welcome"],
    }
    assert EventTrigger.objects.filter(workflow__name="Welcome").count() == 1


def test_an_invalid_pattern_is_refused_at_registration(tenant: Tenant) -> None:
    with pytest.raises(InvalidDefinition, match="Invalid on_events pattern 'user: created'"):
        listens(tenant, "Welcome", "user: created")


def test_a_pushed_event_is_stored_and_starts_each_listening_workflow_once(tenant: Tenant) -> None:
    listens(tenant, "Welcome", "user:created", "user:*")
    listens(tenant, "Billing", "invoice:paid")

    [event] = push_events(tenant, [NewEvent("user:created", {"id": 7}, {"src": "x"})])

    [run] = WorkflowRun.objects.all()
    assert (run.workflow.name, run.trigger, run.event_id) == ("Welcome", "event", event.id)
    assert (run.input, run.additional_metadata) == ({"id": 7}, {"src": "x"})
    assert list(event.runs.all()) == [run]
    assert Event.objects.get().key == "user:created"


def test_an_event_nobody_listens_for_is_still_stored(tenant: Tenant) -> None:
    [event] = push_events(tenant, [NewEvent("nobody:listens")])

    assert Event.objects.get().pk == event.pk
    assert not WorkflowRun.objects.exists()


def test_events_start_only_their_own_tenants_workflows(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    listens(tenant, "Welcome", "user:created")
    listens(other_tenant, "Welcome", "user:created")

    push_events(tenant, [NewEvent("user:created")])

    assert list(WorkflowRun.objects.values_list("tenant", flat=True)) == [tenant.pk]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"key": ""}, "events[1]: key must be a non-empty string."),
        ({"key": "a" * 256}, "events[1]: key is longer than 255 characters."),
        ({"key": "user created"}, "events[1]: key 'user created' is invalid"),
        ({"key": "user::created"}, "events[1]: key 'user::created' is invalid"),
        ({"key": "a", "payload": [1]}, "events[1]: payload must be a JSON object"),
        ({"key": "a", "colour": "red"}, "events[1] has unknown field(s): colour."),
    ],
)
def test_a_batch_with_one_bad_event_stores_nothing(
    tenant: Tenant, raw: dict[str, Any], message: str
) -> None:
    listens(tenant, "Welcome", "user:created")

    with pytest.raises(InvalidRequest) as error:
        push(tenant, {"events": [{"key": "user:created"}, raw]})

    assert error.value.message.startswith(message)
    assert not Event.objects.exists()
    assert not WorkflowRun.objects.exists()


@override_settings(HATCHET_MAX_EVENTS_PER_BATCH=3)
def test_a_batch_over_its_limit_is_refused(tenant: Tenant) -> None:
    with pytest.raises(InvalidRequest, match="at most 3 events; this one has 4"):
        push(tenant, {"events": [{"key": "a"}] * 4})
    assert not Event.objects.exists()


@override_settings(HATCHET_MAX_MESSAGE_BYTES=100)
def test_an_oversized_payload_is_refused(tenant: Tenant) -> None:
    with pytest.raises(PayloadTooLarge) as error:
        push(tenant, {"key": "a", "payload": {"text": "x" * 200}})
    assert error.value.status == 413
    assert not Event.objects.exists()


def test_replay_starts_the_workflows_listening_now(tenant: Tenant) -> None:
    [event] = push_events(tenant, [NewEvent("user:created", {"id": 1})])
    listens(tenant, "Welcome", "user:*")

    [run] = replay_event(tenant, event.id)

    assert (run.workflow.name, run.event_id, run.input) == ("Welcome", event.id, {"id": 1})
    assert WorkflowRun.objects.filter(event=event).count() == 1
