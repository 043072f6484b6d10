"""Request handlers for what programs ask of the engine most often, served the same way
by the REST views and by the client socket: validate the body, call the engine, answer
the JSON the API documents."""

from typing import Any

from hatchet.api import represent, validated
from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from workflows.engine.events import push_event, push_events
from workflows.engine.runs import RunRequest, trigger_workflow_run, trigger_workflow_runs
from workflows.serializers import (
    BulkTriggeredSerializer,
    BulkTriggerSerializer,
    EventDetailSerializer,
    PushedEventsSerializer,
    RunDetailSerializer,
    TriggerRunSerializer,
)


def trigger_run(tenant: Tenant, workflow: str, data: Any) -> dict[str, Any]:
    """One run of the workflow's latest version; answers its detail."""
    body = validated(TriggerRunSerializer, data)
    run = trigger_workflow_run(
        tenant,
        workflow,
        body.get("input"),
        additional_metadata=body.get("additional_metadata"),
        overrides=body.get("overrides"),
    )
    return dict(represent(RunDetailSerializer, run))


def trigger_runs(tenant: Tenant, workflow: str, data: Any) -> dict[str, Any]:
    """Many runs at once, all or none, in one transaction."""
    body = validated(BulkTriggerSerializer, data)
    runs = trigger_workflow_runs(
        tenant,
        workflow,
        [
            RunRequest(run.get("input"), run.get("additional_metadata"), run.get("overrides"))
            for run in body["runs"]
        ],
        details=False,
    )
    return dict(represent(BulkTriggeredSerializer, {"runs": runs}))


def push(tenant: Tenant, data: Any) -> dict[str, Any]:
    """One event (answered with the runs it started), or a batch {"events": [...]}."""
    if isinstance(data, dict) and "events" in data:
        if set(data) != {"events"}:
            raise InvalidRequest('A batch is {"events": [...]} with nothing beside it.')
        return dict(
            represent(PushedEventsSerializer, {"events": push_events(tenant, data["events"])})
        )
    return dict(represent(EventDetailSerializer, push_event(tenant, data)))
