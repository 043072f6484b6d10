"""What programs ask of the engine most often, served the same way by the REST views
and by the client socket: validate the body, call the engine, answer the JSON the
API documents."""

from typing import Any

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
    body = TriggerRunSerializer(data=data)
    body.is_valid(raise_exception=True)
    run = trigger_workflow_run(
        tenant,
        workflow,
        body.validated_data.get("input"),
        additional_metadata=body.validated_data.get("additional_metadata"),
        overrides=body.validated_data.get("overrides"),
    )
    return dict(RunDetailSerializer(run).data)


def trigger_runs(tenant: Tenant, workflow: str, data: Any) -> dict[str, Any]:
    """Many runs at once, all or none, in one transaction."""
    body = BulkTriggerSerializer(data=data)
    body.is_valid(raise_exception=True)
    runs = trigger_workflow_runs(
        tenant,
        workflow,
        [
            RunRequest(run.get("input"), run.get("additional_metadata"), run.get("overrides"))
            for run in body.validated_data["runs"]
        ],
        details=False,
    )
    return dict(BulkTriggeredSerializer({"runs": runs}).data)


def push(tenant: Tenant, data: Any) -> dict[str, Any]:
    """One event (answered with the runs it started), or a batch {"events": [...]}."""
    if isinstance(data, dict) and "events" in data:
        if set(data) != {"events"}:
            raise InvalidRequest('A batch is {"events": [...]} with nothing beside it.')
        return dict(PushedEventsSerializer({"events": push_events(tenant, data["events"])}).data)
    return dict(EventDetailSerializer(push_event(tenant, data)).data)
