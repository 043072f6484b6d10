"""Events: pushing them into the durable log, matching them to workflows' `on_events`
patterns, and starting the matching workflows' runs in the same transaction.

Keys are segments separated by ':'; in a pattern, `*` stands for exactly one segment
(`user:*` matches `user:created`, not `user` nor `user:a:b`).
"""

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hatchet.errors import InvalidDefinition, InvalidRequest, PayloadTooLarge
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.engine.rowio import mark_prefetched
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import Event, EventTrigger, WorkflowRun, WorkflowVersion

MAX_KEY_LENGTH = 255
SEGMENT = r"[A-Za-z0-9_\-./@]+"
KEY_PATTERN = re.compile(rf"^{SEGMENT}(:{SEGMENT})*$")
TRIGGER_PATTERN = re.compile(rf"^({SEGMENT}|\*)(:({SEGMENT}|\*))*$")
KEY_RULES = "segments of letters, digits, '_', '-', '.', '/' or '@', separated by ':'"


@dataclass(frozen=True)
class NewEvent:
    key: str
    payload: dict[str, Any]
    additional_metadata: dict[str, Any]


def segments(key: str) -> list[str]:
    return key.split(":")


def pattern_matches(pattern: str, key: str) -> bool:
    pattern_parts, key_parts = segments(pattern), segments(key)
    return len(pattern_parts) == len(key_parts) and all(
        p == "*" or p == k for p, k in zip(pattern_parts, key_parts, strict=True)
    )


def check_trigger_pattern(pattern: str) -> None:
    if len(pattern) > MAX_KEY_LENGTH or not TRIGGER_PATTERN.match(pattern):
        raise InvalidDefinition(
            f"Invalid on_events pattern '{pattern}': use {KEY_RULES}; '*' stands for one "
            f"segment; at most {MAX_KEY_LENGTH} characters.",
            {"pattern": pattern},
        )


def sync_event_triggers(version: WorkflowVersion, patterns: list[str]) -> None:
    """Make the workflow's patterns those of `version`, its new latest version. Call in
    the registration's transaction."""
    workflow = version.workflow
    EventTrigger.objects.filter(workflow=workflow).delete()
    EventTrigger.objects.bulk_create(
        EventTrigger(
            tenant_id=workflow.tenant_id,
            workflow=workflow,
            version=version,
            pattern=pattern,
            segment_count=len(segments(pattern)),
            is_wildcard="*" in segments(pattern),
        )
        for pattern in dict.fromkeys(patterns)
    )


def workflows_listening(tenant: Tenant, keys: Iterable[str]) -> dict[str, list[str]]:
    """For each key, the names of the tenant's workflows whose latest version listens
    for it (each once, however many of its patterns match)."""
    keys = set(keys)
    if not keys:
        return {}
    counts = {len(segments(key)) for key in keys}
    triggers = EventTrigger.objects.filter(
        Q(pattern__in=keys) | Q(is_wildcard=True, segment_count__in=counts), tenant=tenant
    ).values_list("pattern", "workflow__name")
    listening: dict[str, list[str]] = {key: [] for key in keys}
    for pattern, workflow_name in sorted(triggers, key=lambda t: t[1]):
        for key in keys:
            if pattern_matches(pattern, key) and workflow_name not in listening[key]:
                listening[key].append(workflow_name)
    return listening


def check_event(raw: Any, where: str) -> NewEvent:
    if not isinstance(raw, dict):
        raise InvalidRequest(f"{where} must be a JSON object.")
    unknown = sorted(set(raw) - {"key", "payload", "additional_metadata"})
    if unknown:
        raise InvalidRequest(f"{where} has unknown field(s): {', '.join(unknown)}.")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidRequest(f"{where}: key must be a non-empty string.", {"key": key})
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"{where}: key is longer than {MAX_KEY_LENGTH} characters.", {"length": len(key)}
        )
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(f"{where}: key '{key}' is invalid: use {KEY_RULES}.", {"key": key})
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
    return NewEvent(key, payload, metadata)


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


def start_runs_for(tenant: Tenant, events: list[Event]) -> dict[uuid.UUID, list[WorkflowRun]]:
    """Start one run of every workflow listening for each event's key: the payload is
    the input, the metadata is carried over. Call inside the caller's transaction."""
    listening = workflows_listening(tenant, {event.key for event in events})
    events_of: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        for workflow_name in listening[event.key]:
            events_of[workflow_name].append(event)
    started: dict[uuid.UUID, list[WorkflowRun]] = {event.id: [] for event in events}
    for workflow_name, its_events in events_of.items():
        requests = [
            RunRequest(event.payload, event.additional_metadata, links={"event": event})
            for event in its_events
        ]
        runs = trigger_workflow_runs(
            tenant, workflow_name, requests, trigger="event", details=False
        )
        for event, run in zip(its_events, runs, strict=True):
            started[event.id].append(run)
    return started


def store_events(tenant: Tenant, new_events: list[NewEvent]) -> list[Event]:
    """Store checked events and start the runs they trigger, all or nothing; each
    event's `runs` hold the runs it started, with no query."""
    now = timezone.now()
    events = [
        Event(
            tenant=tenant,
            key=new.key,
            payload=new.payload,
            additional_metadata=new.additional_metadata,
            created_at=now,
        )
        for new in new_events
    ]
    with transaction.atomic():
        Event.objects.bulk_create(events)
        started = start_runs_for(tenant, events)
    for event in events:
        mark_prefetched(event, "runs", started[event.id])
    return events


def push_event(tenant: Tenant, raw: Any) -> Event:
    [event] = store_events(tenant, [check_event(raw, "The event")])
    return event


def push_events(tenant: Tenant, raw_events: Any) -> list[Event]:
    return store_events(tenant, check_events(raw_events))


def event_or_404(tenant: Tenant, event_id: Any) -> Event:
    return get_or_404(Event.objects.filter(tenant=tenant), "Event not found.", pk=event_id)


def replay_event(tenant: Tenant, event_id: Any) -> list[WorkflowRun]:
    """Start the event's runs again, for the workflows that listen for its key now."""
    event = event_or_404(tenant, event_id)
    with transaction.atomic():
        return start_runs_for(tenant, [event])[event.id]
