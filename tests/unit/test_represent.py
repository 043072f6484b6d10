"""Answers and validations from a serializer built once per thread are what a new
serializer gives."""

import json
import threading
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import exceptions, serializers

from hatchet.api import represent, validated
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.events import NewEvent, push_events
from workflows.engine.runs import RunRequest, trigger_workflow_run, trigger_workflow_runs
from workflows.serializers import (
    BulkTriggeredSerializer,
    BulkTriggerSerializer,
    EventDetailSerializer,
    RunDetailSerializer,
    TriggerRunSerializer,
)

pytestmark = pytest.mark.django_db


def as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def test_a_reused_serializer_answers_each_instance_as_a_new_one_would(tenant: Tenant) -> None:
    register_workflow(
        tenant, definition("Chain", steps=[{"name": "a"}, {"name": "b", "parents": ["a"]}])
    )
    register_workflow(
        tenant, definition("OnEvent", steps=[{"name": "a"}], on_events=["user:created"])
    )
    first = trigger_workflow_run(tenant, "Chain", {"n": 1}, additional_metadata={"k": "v"})
    second = trigger_workflow_run(tenant, "Chain", {"n": 2})
    many = {"runs": trigger_workflow_runs(tenant, "Chain", [RunRequest({"n": 3})] * 3)}
    [event] = push_events(tenant, [NewEvent("user:created", {"id": 7})])

    cases: list[tuple[type[serializers.BaseSerializer[Any]], Any]] = [
        (RunDetailSerializer, first),
        (RunDetailSerializer, second),
        (BulkTriggeredSerializer, many),
        (EventDetailSerializer, event),
    ]
    for serializer_class, instance in cases:
        expected = as_json(serializer_class(instance).data)
        assert as_json(represent(serializer_class, instance)) == expected
    assert as_json(represent(RunDetailSerializer, first))["input"] == {"n": 1}
    assert as_json(represent(RunDetailSerializer, second))["input"] == {"n": 2}


def test_each_thread_builds_its_own_serializer(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_workflow(tenant, definition("Chain", steps=[{"name": "a"}]))
    run = trigger_workflow_run(tenant, "Chain", {})
    built: list[RunDetailSerializer] = []
    original_init = RunDetailSerializer.__init__

    def counting_init(self: RunDetailSerializer, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(RunDetailSerializer, "__init__", counting_init)

    def answer_three_times() -> None:
        for _ in range(3):
            represent(RunDetailSerializer, run)

    for _ in range(2):
        thread = threading.Thread(target=answer_three_times)
        thread.start()
        thread.join()

    # Once in each thread: not for every answer, and not one shared by both.
    assert len(built) == 2


@pytest.mark.parametrize(
    ("serializer_class", "data"),
    [
        (TriggerRunSerializer, {"input": {"n": 1}, "overrides": {"a": {"prompt": "hi"}}}),
        (TriggerRunSerializer, {}),
        (TriggerRunSerializer, None),
        (TriggerRunSerializer, ["not", "an", "object"]),
        (TriggerRunSerializer, {"input": "text"}),
        (TriggerRunSerializer, {"inptu": {}}),
        (BulkTriggerSerializer, {"runs": [{"input": {"n": 1}}, {}]}),
        (BulkTriggerSerializer, {"runs": []}),
        (BulkTriggerSerializer, {"runs": [{"input": 3}]}),
    ],
)
def test_a_reused_serializer_validates_as_a_new_one_would(
    serializer_class: type[serializers.Serializer[Any]], data: Any
) -> None:
    fresh = serializer_class(data=data)
    if fresh.is_valid():
        assert validated(serializer_class, data) == fresh.validated_data
    else:
        with pytest.raises(exceptions.ValidationError) as reused:
            validated(serializer_class, data)
        assert as_json(reused.value.detail) == as_json(
            exceptions.ValidationError(fresh.errors).detail
        )
