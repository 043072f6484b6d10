"""Request handlers for what programs ask of the engine most often, served the same way
by the REST views and by the client socket: validate the body, call the engine, answer
the JSON the API documents."""

import json
from typing import Any

from django.conf import settings

from hatchet.api import represent, validated
from hatchet.errors import InvalidRequest, PayloadTooLarge
from hatchet.models import Tenant
from workflows.engine.events import NewEvent, check_event_key, push_events
from workflows.engine.idempotency import MAX_KEY_LENGTH as MAX_IDEMPOTENCY_KEY
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
        priority=body.get("priority"),
        idempotency_key=body.get("idempotency_key"),
    )
    return dict(represent(RunDetailSerializer, run))


def trigger_runs(tenant: Tenant, workflow: str, data: Any) -> dict[str, Any]:
    """Many runs at once, all or none, in one transaction."""
    body = validated(BulkTriggerSerializer, data)
    runs = trigger_workflow_runs(
        tenant,
        workflow,
        [
            RunRequest(
                run.get("input"),
                run.get("additional_metadata"),
                run.get("overrides"),
                run.get("priority"),
                idempotency_key=run.get("idempotency_key"),
            )
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
        events = push_events(tenant, check_events(data["events"]))
        return dict(represent(PushedEventsSerializer, {"events": events}))
    [event] = push_events(tenant, [check_event(data, "The event")])
    return dict(represent(EventDetailSerializer, event))


def check_event(raw: Any, where: str) -> NewEvent:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{where} must be a JSON object.")
    unknown = sorted(set(raw) - {"key", "payload", "additional_metadata", "idempotency_key"})
    if unknown:
        raise InvalidRequest(f"{where} has unknown field(s): {', '.join(unknown)}.")
    key = check_event_key(raw.get("key"), where)
    payload = raw.get("payload")
    payload = {} if payload is None else payload
    metadata = raw.get("additional_metadata")
    metadata = {} if metadata is None else metadata
    if not isinstance(payload, dict):
        raise InvalidRequest(f"{where}: payload must be a JSON object (it is the run's input).")
    if not isinstance(metadata, dict):
        raise InvalidRequest(f"{where}: additional_metadata must be a JSON object.")
    size = len(json.dumps(payload).encode()) + len(json.dumps(metadata).encode())
    if size > settings.HATCHET_MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"{where}: payload and metadata take {size} bytes; the limit is "
            f"{settings.HATCHET_MAX_MESSAGE_BYTES}.",
            {"bytes": size, "limit": settings.HATCHET_MAX_MESSAGE_BYTES},
        )
    idempotency_key = raw.get("idempotency_key")
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY
    ):
        raise InvalidRequest(
            f"{where}: idempotency_key must be a string of 1 to {MAX_IDEMPOTENCY_KEY} characters."
        )
    return NewEvent(key, payload, metadata, idempotency_key)


def check_events(raw_events: Any) -> list[NewEvent]:
    limit = settings.HATCHET_MAX_EVENTS_PER_BATCH
    if not isinstance(raw_events, list) or not raw_events:
        raise InvalidRequest("events must be a non-empty list of events.")
    if len(raw_events) > limit:
        raise InvalidRequest(
            f"A batch holds at most {limit} events; this one has {len(raw_events)}.",
            {"count": len(raw_events), "limit": limit},
        )
    events = [check_event(raw, f"events[{i}]") for i, raw in enumerate(raw_events)]
    size = sum(len(json.dumps([e.payload, e.additional_metadata]).encode()) for e in events)
    if size > settings.HATCHET_MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"The batch's payloads take {size} bytes; the limit is "
            f"{settings.HATCHET_MAX_MESSAGE_BYTES}.",
            {"bytes": size, "limit": settings.HATCHET_MAX_MESSAGE_BYTES},
        )
    return events
