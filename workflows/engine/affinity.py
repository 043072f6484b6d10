"""Which worker may take a step: the labels it requires or prefers of a worker, and
sticky runs, whose steps stay on the worker that took the run's first step.

A step's `desired_worker_labels` map a label to what it wants of the worker's value:
`{"value": 32, "comparator": ">=", "required": true}`. A required label a worker lacks
or fails keeps the step off that worker. A preferred one adds its `weight` (default
100) to the worker's score; the live workers with the best score take the step at
once, the others only after it has waited HATCHET_PREFERENCE_WAIT seconds, scaled by
how far they fall short (a busy preferred worker does not hold a step for long).

A sticky run ("soft": preferred, "hard": only) stays on the worker that took its first
step; a hard one goes to a restart of that worker (a worker of the same name) once the
worker itself is gone, and waits for one until its schedule timeout. Such steps are
`constrained` step runs, claimed apart from the others (queue.claim_constrained).
"""

import operator
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings

from hatchet.errors import InvalidDefinition
from workflows.models import StepRun, StepRunStatus

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
ORDERED = {"<", "<=", ">", ">="}
DEFAULT_WEIGHT = 100
MAX_WEIGHT = 1_000_000
MAX_LABELS = 20
MAX_LABEL_LENGTH = 100
STICKY = ("soft", "hard")
FIELDS = {"value", "comparator", "required", "weight"}


def is_label_value(value: Any) -> bool:
    """Worker labels and the values steps want of them: text, numbers, true or false."""
    if isinstance(value, str):
        return len(value) <= MAX_LABEL_LENGTH
    return isinstance(value, bool | int | float)


def check_worker_labels(labels: Any) -> dict[str, Any] | None:
    """The labels, if they are a map of at most MAX_LABELS names to label values."""
    if not isinstance(labels, dict) or len(labels) > MAX_LABELS:
        return None
    for name, value in labels.items():
        if not 0 < len(name) <= MAX_LABEL_LENGTH or not is_label_value(value):
            return None
    return labels


def parse_desired_labels(raw: Any, where: str) -> dict[str, dict[str, Any]]:
    """A step's `desired_worker_labels`, checked (docs/protocol.md), with defaults."""
    if raw is None:
        return {}

    def refuse(message: str) -> InvalidDefinition:
        return InvalidDefinition(f"{where}: {message}", {"field": "desired_worker_labels"})

    if not isinstance(raw, dict) or len(raw) > MAX_LABELS:
        raise refuse(f"desired_worker_labels must map at most {MAX_LABELS} labels to objects.")
    desired = {}
    for label, want in raw.items():
        if not 0 < len(label) <= MAX_LABEL_LENGTH:
            raise refuse(f"a label name has 1 to {MAX_LABEL_LENGTH} characters.")
        if not isinstance(want, dict):
            raise refuse(f'label {label!r} must be an object such as {{"value": true}}.')
        unknown = sorted(set(want) - FIELDS)
        if unknown:
            raise refuse(f"label {label!r} has unknown field(s): {', '.join(unknown)}.")
        value = want.get("value")
        if not is_label_value(value):
            raise refuse(f"label {label!r} needs a value: text, a number, true or false.")
        comparator = want.get("comparator", "=")
        if comparator not in COMPARATORS:
            raise refuse(f"label {label!r}: comparator must be one of {' '.join(COMPARATORS)}.")
        if comparator in ORDERED and not is_number(value):
            raise refuse(f"label {label!r}: {comparator} compares numbers only.")
        required = want.get("required", False)
        if not isinstance(required, bool):
            raise refuse(f"label {label!r}: required must be true or false.")
        weight = want.get("weight", DEFAULT_WEIGHT)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= MAX_WEIGHT:
            raise refuse(f"label {label!r}: weight must be an integer from 1 to {MAX_WEIGHT}.")
        desired[label] = {
            "value": value,
            "comparator": comparator,
            "required": required,
            "weight": weight,
        }
    return desired


def parse_sticky(raw: Any) -> str:
    if raw is None:
        return ""
    if raw not in STICKY:
        raise InvalidDefinition(
            "sticky must be 'soft' or 'hard'.", {"field": "sticky", "value": raw}
        )
    return str(raw)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def label_holds(want: Mapping[str, Any], labels: Mapping[str, Any], label: str) -> bool:
    """Whether the worker's `labels` meet what the step wants of `label`."""
    if label not in labels:
        return False
    have, value, comparator = labels[label], want["value"], want["comparator"]
    if comparator in ORDERED:
        return is_number(have) and COMPARATORS[comparator](have, value)
    # true is not 1 here, as it is in Python.
    same = type(have) is type(value) or (is_number(have) and is_number(value))
    return COMPARATORS[comparator](have, value) if same else comparator == "!="


@dataclass(frozen=True)
class WorkerProfile:
    id: UUID
    name: str
    labels: Mapping[str, Any]
    serves: frozenset[str]


@dataclass(frozen=True)
class StickyTo:
    """The worker that took a sticky run's first step, and whether it is still live."""

    worker_id: UUID
    worker_name: str
    live: bool


@dataclass(frozen=True)
class Choice:
    """What a constrained step run wants of a worker."""

    action: str
    desired: Mapping[str, Mapping[str, Any]]
    sticky: str
    sticky_to: StickyTo | None


def score(choice: Choice, worker: WorkerProfile) -> int | None:
    """The worker's score for the step: None if it may not take it at all."""
    if choice.sticky == "hard" and choice.sticky_to is not None:
        stuck = choice.sticky_to
        if worker.id != stuck.worker_id and (stuck.live or worker.name != stuck.worker_name):
            return None
    total = 0
    for label, want in choice.desired.items():
        holds = label_holds(want, worker.labels, label)
        if want["required"] and not holds:
            return None
        if holds and not want["required"]:
            total += want["weight"]
    soft = choice.sticky == "soft" and choice.sticky_to is not None
    if soft and choice.sticky_to is not None and worker.id == choice.sticky_to.worker_id:
        return most_score(choice)
    return total


def most_score(choice: Choice) -> int:
    """The score of a worker with every preferred label (and, soft sticky, the run's)."""
    preferred = sum(int(w["weight"]) for w in choice.desired.values() if not w["required"])
    return preferred + (DEFAULT_WEIGHT if choice.sticky == "soft" else 0)


def may_take_at(
    choice: Choice, worker: WorkerProfile, live: Iterable[WorkerProfile], available_at: datetime
) -> datetime | None:
    """When `worker` may take the step run claimable since `available_at`: at once if
    no live worker serving it scores better, else after a wait as long as the share of
    the best score it lacks; None if never."""
    mine = score(choice, worker)
    if mine is None:
        return None
    scores = [score(choice, other) for other in live if choice.action in other.serves]
    best = max([s for s in scores if s is not None] + [mine])
    if mine >= best:
        return available_at
    wait = settings.HATCHET_PREFERENCE_WAIT * (best - mine) / best
    return available_at + timedelta(seconds=wait)


def describe(choice: Choice) -> str:
    """The step's wants, as a wait reason says them: 'gpu = true, memory_gb >= 32'."""
    wants = [
        f"{label} {want['comparator']} {format_value(want['value'])}"
        for label, want in choice.desired.items()
        if want["required"]
    ]
    return ", ".join(wants)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Whether a tenant has constrained step runs queued, as this process last looked: the
# common claim then costs no look at all. It looks again after CONSTRAINED_RECHECK
# seconds, and knows at once of those it queues itself (note_constrained_queued).
CONSTRAINED_RECHECK = 1.0
_constrained_seen: dict[Any, tuple[bool, float]] = {}


def constrained_step_runs_queued(tenant_id: Any) -> bool:
    seen = _constrained_seen.get(tenant_id)
    if seen is not None and time.monotonic() < seen[1]:
        return seen[0]
    queued = StepRun.objects.filter(
        tenant_id=tenant_id, status=StepRunStatus.QUEUED, constrained=True
    ).exists()
    _constrained_seen[tenant_id] = (queued, time.monotonic() + CONSTRAINED_RECHECK)
    return queued


def note_constrained_queued(tenant_id: Any) -> None:
    _constrained_seen[tenant_id] = (True, time.monotonic() + CONSTRAINED_RECHECK)
