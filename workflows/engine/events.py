"""Events: pushing them into the durable log, matching them to workflows' `on_events`
patterns, and starting the matching workflows' runs in the same transaction.

Keys are segments separated by ':'; in a pattern, `*` stands for exactly one segment
(`user:*` matches `user:created`, not `user` nor `user:a:b`).
"""

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hatchet.errors import InvalidDefinition, InvalidRequest
from hatchet.lookups import get_or_404
from hatchet.models import Tenant
from workflows.engine.idempotency import take_keys
from workflows.engine.rowio import mark_prefetched
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import Event, EventTrigger, IdempotencyKey, WorkflowRun, WorkflowVersion
from workflows.signals import announce_events_pushed

MAX_KEY_LENGTH = 255
SEGMENT = r"[A-Za-z0-9_\-./@]+"
KEY_PATTERN = re.compile(rf"^{SEGMENT}(:{SEGMENT})*$")
TRIGGER_PATTERN = re.compile(rf"^({SEGMENT}|\*)(:({SEGMENT}|\*))*$")
EVENT_KEY = IdempotencyKey.Scope.EVENT
KEY_RULES = "segments of letters, digits, '_', '-', '.', '/' or '@', separated by ':'"


@dataclass(frozen=True)
class NewEvent:
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    additional_metadata: dict[str, Any] = field(default_factory=dict)
    # An event pushed with this key within the window answers instead (idempotency.py).
    idempotency_key: str | None = None


def segments(key: str) -> list[str]:
    return key.split(":")


def pattern_matches(pattern: str, key: str) -> bool:
    pattern_parts, key_parts = segments(pattern), segments(key)
    return len(pattern_parts) == len(key_parts) and all(
        p == "*" or p == k for p, k in zip(pattern_parts, key_parts, strict=True)
    )


def check_event_key(key: Any, where: str) -> str:
    """The key, if it is an event key; else raise InvalidRequest, naming `where`."""
    if not isinstance(key, str) or not key:
        raise InvalidRequest(f"{where}: key must be a non-empty string.", {"key": key})
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"{where}: key is longer than {MAX_KEY_LENGTH} characters.", {"length": len(key)}
        )
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(f"{where}: key '{key}' is invalid: use {KEY_RULES}.", {"key": key})
    return key


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


def push_events(tenant: Tenant, new_events: list[NewEvent]) -> list[Event]:
    """Store checked events (workflows/handlers.py checks what programs send) and start
    the runs they trigger, all or nothing; each event's `runs` hold the runs it
    started, with no query."""
    now = timezone.now()
    with transaction.atomic():
        batch = take_keys(tenant.pk, EVENT_KEY, [new.idempotency_key for new in new_events], now)
        events = [
            Event(
                tenant=tenant,
                key=new.key,
                payload=new.payload,
                additional_metadata=new.additional_metadata,
                created_at=now,
            )
            for new in batch.fresh(new_events)
        ]
        Event.objects.bulk_create(events)
        started = start_runs_for(tenant, events)
        batch.record(tenant.pk, EVENT_KEY, [event.id for event in events])
        earlier = Event.objects.filter(pk__in=batch.earlier.values()) if batch.earlier else None
        found = {e.id: e for e in earlier.prefetch_related("runs")} if earlier is not None else {}
        announce_events_pushed(tenant.pk, events)
    for event in events:
        mark_prefetched(event, "runs", started[event.id])
    return batch.answer(events, found)


def event_or_404(tenant: Tenant, event_id: Any) -> Event:
    return get_or_404(Event.objects.filter(tenant=tenant), "Event not found.", pk=event_id)


def replay_event(tenant: Tenant, event_id: Any) -> list[WorkflowRun]:
    """Start the event's runs again, for the workflows that listen for its key now."""
    event = event_or_404(tenant, event_id)
    with transaction.atomic():
        return start_runs_for(tenant, [event])[event.id]
