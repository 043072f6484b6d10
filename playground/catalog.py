"""The variable catalog, filled from the playground records the SDK leaves on step runs
as they succeed: no registration call, the code that runs is the truth."""

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from playground.models import JSON_TYPES, Variable, VariableDefault
from workflows.models import StepRun, StepRunStatus
from workflows.signals import playground_recorded

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sighting:
    """One variable as one step run recorded it."""

    tenant_id: UUID
    workflow_id: UUID
    step: str
    name: str
    type: str
    default: Any
    call_site: dict[str, Any]
    version_id: UUID
    version_number: int
    seen_at: datetime

    @property
    def key(self) -> tuple[UUID, str, str]:
        return (self.workflow_id, self.step, self.name)

    @property
    def fingerprint(self) -> str:
        text = json.dumps([str(self.version_id), self.type, self.default], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def sightings_in(step_run_ids: Iterable[Any]) -> list[Sighting]:
    """What the succeeded step runs among these recorded. Step runs a replay reused
    (attempt 0) ran under another version and are left out."""
    rows = StepRun.objects.filter(
        pk__in=list(step_run_ids), status=StepRunStatus.SUCCEEDED, attempt__gt=0
    ).values_list(
        "tenant_id",
        "workflow_run__workflow_id",
        "step__name",
        "workflow_run__version_id",
        "workflow_run__version__number",
        "finished_at",
        "playground",
    )
    sightings = []
    for tenant_id, workflow_id, step, version_id, number, finished_at, records in rows:
        for record in records if isinstance(records, list) else []:
            if not is_record(record):
                continue
            sightings.append(
                Sighting(
                    tenant_id=tenant_id,
                    workflow_id=workflow_id,
                    step=step,
                    name=record["name"],
                    type=record["type"],
                    default=record.get("default"),
                    call_site=record.get("call_site") or {},
                    version_id=version_id,
                    version_number=number,
                    seen_at=finished_at or timezone.now(),
                )
            )
    return sightings


def is_record(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("name"), str)
        and 0 < len(record["name"]) <= 200
        and record.get("type") in JSON_TYPES
        and isinstance(record.get("call_site") or {}, dict)
    )


def record_variables(step_run_ids: Iterable[Any]) -> list[Variable]:
    """Add to the catalog what these step runs recorded: new variables, their current
    default (from the newest version), when seen, and each distinct default."""
    sightings = sorted(sightings_in(step_run_ids), key=lambda s: (s.version_number, s.seen_at))
    if not sightings:
        return []
    keys = {sighting.key for sighting in sightings}
    with transaction.atomic():
        Variable.objects.bulk_create(
            [
                Variable(
                    tenant_id=s.tenant_id,
                    workflow_id=s.workflow_id,
                    step=s.step,
                    name=s.name,
                    type=s.type,
                    default=s.default,
                    call_site=s.call_site,
                    version_id=s.version_id,
                    version_number=s.version_number,
                    first_seen_at=s.seen_at,
                    last_seen_at=s.seen_at,
                )
                for s in {s.key: s for s in sightings}.values()
            ],
            ignore_conflicts=True,
        )
        workflow_ids = {key[0] for key in keys}
        variables = {
            (v.workflow_id, v.step, v.name): v
            for v in Variable.objects.select_for_update()
            .filter(workflow_id__in=workflow_ids)
            .order_by("pk")
            if (v.workflow_id, v.step, v.name) in keys
        }
        for sighting in sightings:
            see(variables[sighting.key], sighting)
        Variable.objects.bulk_update(
            variables.values(),
            [
                "type",
                "default",
                "call_site",
                "version",
                "version_number",
                "first_seen_at",
                "last_seen_at",
            ],
        )
        record_defaults(variables, sightings)
    return list(variables.values())


def see(variable: Variable, sighting: Sighting) -> None:
    variable.first_seen_at = min(variable.first_seen_at, sighting.seen_at)
    variable.last_seen_at = max(variable.last_seen_at, sighting.seen_at)
    # An older version still running somewhere does not bring its default back.
    if sighting.version_number >= variable.version_number:
        variable.type = sighting.type
        variable.default = sighting.default
        variable.call_site = sighting.call_site
        variable.version_id = sighting.version_id
        variable.version_number = sighting.version_number


def record_defaults(variables: dict[Any, Variable], sightings: list[Sighting]) -> None:
    latest: dict[tuple[UUID, str], Sighting] = {}
    for sighting in sightings:
        latest[(variables[sighting.key].pk, sighting.fingerprint)] = sighting
    VariableDefault.objects.bulk_create(
        [
            VariableDefault(
                variable_id=variable_id,
                fingerprint=fingerprint,
                version_id=s.version_id,
                type=s.type,
                default=s.default,
                call_site=s.call_site,
                first_seen_at=s.seen_at,
                last_seen_at=s.seen_at,
            )
            for (variable_id, fingerprint), s in latest.items()
        ],
        ignore_conflicts=True,
    )
    for (variable_id, fingerprint), s in latest.items():
        VariableDefault.objects.filter(
            variable_id=variable_id, fingerprint=fingerprint, last_seen_at__lt=s.seen_at
        ).update(last_seen_at=s.seen_at, call_site=s.call_site)


def on_playground_recorded(step_run_ids: list[Any], **kwargs: Any) -> None:
    try:
        record_variables(step_run_ids)
    except Exception:
        # The catalog is a by-product: the engine's announcement must go on regardless.
        logger.exception(
            "playground: recording the variables of %d step runs failed", len(step_run_ids)
        )


def subscribe_to_engine() -> None:
    playground_recorded.connect(on_playground_recorded, dispatch_uid="playground.catalog")
