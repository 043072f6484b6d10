"""Workflow definitions as workers send them: validation and versioned registration."""

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from hatchet.errors import InvalidDefinition, NotFound
from hatchet.models import Tenant
from hatchet.wire.durations import parse_duration
from workflows.engine.affinity import parse_desired_labels, parse_sticky
from workflows.engine.concurrency import parse_concurrency, parse_step_concurrency
from workflows.engine.crons import cron_problem, sync_declared_crons
from workflows.engine.dag import topological_order
from workflows.engine.events import check_trigger_pattern, sync_event_triggers
from workflows.engine.rate_limits import parse_rate_limits
from workflows.engine.versions import forget_latest_version, latest_version, steps_of
from workflows.models import DEFAULT_PRIORITY, MAX_PRIORITY, Step, Workflow, WorkflowVersion
from workflows.signals import evaluator_registered

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")
MAX_STEPS = 500
MAX_RETRIES = 100
DEFAULT_STEP_TIMEOUT = "60s"
DEFAULT_SCHEDULE_TIMEOUT = "5m"
DEFAULT_BACKOFF = {"initial": "1s", "factor": 2, "max": "60s"}

WORKFLOW_FIELDS = {
    "name",
    "description",
    "version",
    "on_events",
    "on_crons",
    "timeout",
    "schedule_timeout",
    "steps",
    "evaluator",
    "priority",
    "concurrency",
    "sticky",
}
# The longest text of each field of an evaluator's declaration.
EVALUATOR_FIELDS = {"name": 200, "workflow": 200, "step": 200, "function": 500, "worker": 200}
STEP_FIELDS = {
    "name",
    "parents",
    "timeout",
    "schedule_timeout",
    "retries",
    "backoff",
    "on_failure",
    "rate_limits",
    "desired_worker_labels",
    "concurrency",
    "durable",
}


@dataclass(frozen=True)
class StepDefinition:
    name: str
    parents: list[str]
    timeout_seconds: float
    schedule_timeout_seconds: float
    retries: int
    backoff_initial_seconds: float
    backoff_factor: float
    backoff_max_seconds: float
    on_failure: bool = False
    # workflows/engine/rate_limits.py
    rate_limits: list[dict[str, Any]] = field(default_factory=list)
    # workflows/engine/affinity.py
    desired_worker_labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # workflows/engine/concurrency.py, held step runs per key
    concurrency: dict[str, Any] | None = None
    # workflows/engine/durable.py
    durable: bool = False


@dataclass(frozen=True)
class EvaluatorDeclaration:
    """What a code evaluator's workflow scores: the output of `step` (blank: the one a
    playground cell shows) of `workflow`, with the SDK's `function`, as `worker`
    registered it."""

    name: str
    workflow: str
    step: str
    function: str
    worker: str


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    description: str
    version: str
    on_events: list[str]
    on_crons: list[str]
    timeout_seconds: float | None
    steps: list[StepDefinition]
    evaluator: EvaluatorDeclaration | None = None
    # The priority of its runs unless a trigger names one; None: DEFAULT_PRIORITY.
    priority: int | None = None
    # workflows/engine/concurrency.py
    concurrency: dict[str, Any] | None = None
    # "soft" or "hard": its runs' steps stick to the worker that took the first.
    sticky: str | None = None

    def as_json(self) -> dict[str, Any]:
        # Without an evaluator (or an on-failure step, or a priority) the key is left
        # out, so that the checksums of the definitions registered before they existed
        # stay the same.
        definition = asdict(self)
        for key in ("evaluator", "priority", "concurrency", "sticky"):
            if definition[key] is None:
                del definition[key]
        for step in definition["steps"]:
            for key in (
                "on_failure",
                "rate_limits",
                "desired_worker_labels",
                "concurrency",
                "durable",
            ):
                if not step[key]:
                    del step[key]
        return definition

    @property
    def checksum(self) -> str:
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def require(condition: bool, message: str, **details: Any) -> None:
    if not condition:
        raise InvalidDefinition(message, details)


def duration(value: Any, where: str, field: str) -> float:
    """Seconds of the duration at `field` (its path in the definition, in the error's
    details), from above zero to MAX_DURATION."""
    require(
        isinstance(value, str), f"{where} must be a duration string such as '30s'.", field=field
    )
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise InvalidDefinition(f"{where}: {exc}", {"value": value, "field": field}) from None
    require(seconds > 0, f"{where} must be longer than zero.", value=value, field=field)
    return seconds


def string_list(value: Any, where: str) -> list[str]:
    require(
        isinstance(value, list) and all(isinstance(item, str) and item for item in value),
        f"{where} must be a list of non-empty strings.",
    )
    return list(value)


def unknown_fields(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    require(not unknown, f"{where} has unknown field(s): {', '.join(unknown)}.", fields=unknown)


def parse_step(raw: Any, index: int, workflow_schedule_timeout: float) -> StepDefinition:
    require(isinstance(raw, dict), "Each step must be an object.")
    name = raw.get("name")
    require(
        isinstance(name, str) and bool(NAME_PATTERN.match(name)),
        f"Step name {name!r} is invalid: use letters, digits, '_', '.' or '-', "
        "starting with a letter or '_'.",
    )
    where = f"Step '{name}'"
    unknown_fields(raw, STEP_FIELDS, where)
    retries = raw.get("retries", 0)
    require(
        isinstance(retries, int) and not isinstance(retries, bool),
        f"{where}: retries must be an integer.",
    )
    require(retries >= 0, f"{where}: retries must not be negative (got {retries}).")
    require(retries <= MAX_RETRIES, f"{where}: retries must be at most {MAX_RETRIES}.")
    backoff = {**DEFAULT_BACKOFF, **(raw.get("backoff") or {})}
    require(
        set(backoff) <= set(DEFAULT_BACKOFF), f"{where}: backoff takes initial, factor and max."
    )
    factor = backoff["factor"]
    require(
        isinstance(factor, int | float) and not isinstance(factor, bool) and 1 <= factor <= 10,
        f"{where}: backoff factor must be a number from 1 to 10.",
    )
    schedule_timeout = raw.get("schedule_timeout")
    field = f"steps[{index}]"
    on_failure = raw.get("on_failure", False)
    require(isinstance(on_failure, bool), f"{where}: on_failure must be true or false.")
    durable = raw.get("durable", False)
    require(isinstance(durable, bool), f"{where}: durable must be true or false.")
    return StepDefinition(
        name=name,
        parents=string_list(raw.get("parents", []), f"{where}: parents"),
        timeout_seconds=duration(
            raw.get("timeout", DEFAULT_STEP_TIMEOUT), f"{where}: timeout", f"{field}.timeout"
        ),
        schedule_timeout_seconds=(
            workflow_schedule_timeout
            if schedule_timeout is None
            else duration(
                schedule_timeout, f"{where}: schedule_timeout", f"{field}.schedule_timeout"
            )
        ),
        retries=retries,
        backoff_initial_seconds=duration(
            backoff["initial"], f"{where}: backoff initial", f"{field}.backoff.initial"
        ),
        backoff_factor=float(factor),
        backoff_max_seconds=duration(
            backoff["max"], f"{where}: backoff max", f"{field}.backoff.max"
        ),
        on_failure=on_failure,
        rate_limits=parse_rate_limits(raw.get("rate_limits"), where),
        desired_worker_labels=parse_desired_labels(raw.get("desired_worker_labels"), where),
        concurrency=parse_step_concurrency(raw.get("concurrency"), where),
        durable=durable,
    )


def check_on_failure(steps: list[StepDefinition]) -> None:
    """At most one on-failure step, beside at least one other, and outside the DAG: it
    runs when another step fails for good, so it waits for none and none waits for it."""
    handlers = [step.name for step in steps if step.on_failure]
    require(
        len(handlers) <= 1,
        f"A workflow has at most one on-failure step (found {', '.join(handlers)}).",
        steps=handlers,
    )
    if not handlers:
        return
    [handler] = handlers
    require(
        len(steps) > 1,
        f"The on-failure step '{handler}' needs another step to watch.",
        step=handler,
    )
    for step in steps:
        require(
            not (step.on_failure and step.parents),
            f"The on-failure step '{handler}' cannot have parents: it runs when any step fails.",
            step=handler,
        )
        require(
            handler not in step.parents,
            f"Step '{step.name}' cannot wait for the on-failure step '{handler}'.",
            step=step.name,
        )


def parse_evaluator(raw: Any) -> EvaluatorDeclaration | None:
    """docs/protocol.md, "Code evaluators"."""
    if raw is None:
        return None
    require(isinstance(raw, dict), "evaluator must be an object.", field="evaluator")
    unknown_fields(raw, set(EVALUATOR_FIELDS), "evaluator")
    texts = {}
    for key, longest in sorted(EVALUATOR_FIELDS.items()):
        value = raw.get(key, "")
        require(
            isinstance(value, str) and len(value) <= longest,
            f"evaluator.{key} must be a string of at most {longest} characters.",
            field=f"evaluator.{key}",
        )
        texts[key] = value
    for key in ("name", "workflow"):
        require(
            bool(NAME_PATTERN.match(texts[key])),
            f"evaluator.{key} {texts[key]!r} is invalid: use letters, digits, '_', '.' or "
            "'-', starting with a letter or '_'.",
            field=f"evaluator.{key}",
        )
    return EvaluatorDeclaration(**texts)


def check_evaluated(tenant: Tenant, declaration: EvaluatorDeclaration) -> None:
    """An evaluator scores a workflow registered before it, and one of its steps."""
    try:
        version = latest_version(tenant, declaration.workflow)
    except NotFound:
        raise InvalidDefinition(
            f"The evaluator '{declaration.name}' scores the workflow '{declaration.workflow}', "
            "which is not registered: register it first.",
            {"field": "evaluator.workflow", "workflow": declaration.workflow},
        ) from None
    names = [step.name for step in steps_of(version.pk)]
    require(
        not declaration.step or declaration.step in names,
        f"The evaluator '{declaration.name}' scores the step '{declaration.step}', which "
        f"{declaration.workflow} does not have (its steps: {', '.join(names)}).",
        field="evaluator.step",
        steps=names,
    )


def parse_definition(raw: Any) -> WorkflowDefinition:
    """A validated definition, or InvalidDefinition naming the first problem."""
    require(isinstance(raw, dict), "A workflow definition must be a JSON object.")
    unknown_fields(raw, WORKFLOW_FIELDS, "The workflow definition")
    name = raw.get("name")
    require(
        isinstance(name, str) and bool(NAME_PATTERN.match(name)),
        f"Workflow name {name!r} is invalid: use letters, digits, '_', '.' or '-', "
        "starting with a letter or '_'.",
    )
    timeout = raw.get("timeout")
    schedule_timeout = duration(
        raw.get("schedule_timeout", DEFAULT_SCHEDULE_TIMEOUT),
        "schedule_timeout",
        "schedule_timeout",
    )
    raw_steps = raw.get("steps")
    require(
        isinstance(raw_steps, list) and 0 < len(raw_steps) <= MAX_STEPS,
        f"A workflow needs from 1 to {MAX_STEPS} steps.",
    )
    steps = [parse_step(step, index, schedule_timeout) for index, step in enumerate(raw_steps)]
    seen: set[str] = set()
    for step in steps:
        require(step.name not in seen, f"Duplicate step '{step.name}'.", step=step.name)
        seen.add(step.name)
    topological_order({step.name: step.parents for step in steps})
    check_on_failure(steps)
    crons = string_list(raw.get("on_crons", []), "on_crons")
    for expression in crons:
        problem = cron_problem(expression)
        require(problem is None, str(problem), expression=expression)
    events = string_list(raw.get("on_events", []), "on_events")
    for pattern in events:
        check_trigger_pattern(pattern)
    description = raw.get("description", "")
    version = raw.get("version", "")
    require(isinstance(description, str), "description must be a string.")
    require(isinstance(version, str), "version must be a string.")
    return WorkflowDefinition(
        name=name,
        description=description,
        version=version,
        on_events=events,
        on_crons=crons,
        timeout_seconds=None if timeout is None else duration(timeout, "timeout", "timeout"),
        steps=steps,
        evaluator=parse_evaluator(raw.get("evaluator")),
        priority=None if raw.get("priority") is None else checked_priority(raw["priority"]),
        concurrency=parse_concurrency(raw.get("concurrency")),
        sticky=parse_sticky(raw.get("sticky")) or None,
    )


def checked_priority(value: Any) -> int:
    require(
        isinstance(value, int)
        and not isinstance(value, bool)
        and DEFAULT_PRIORITY <= value <= MAX_PRIORITY,
        f"priority must be an integer from {DEFAULT_PRIORITY} to {MAX_PRIORITY} "
        f"({MAX_PRIORITY} is the most urgent).",
        field="priority",
        value=value,
    )
    return int(value)


def register_workflow(tenant: Tenant, raw: Any) -> tuple[WorkflowVersion, bool]:
    """Store a definition; the same definition again returns its existing version."""
    definition = parse_definition(raw)
    if definition.evaluator is not None:
        check_evaluated(tenant, definition.evaluator)
        # Before anything is written: a subscriber that refuses the declaration refuses
        # the whole registration.
        with transaction.atomic():
            evaluator_registered.send(
                sender=None,
                tenant=tenant,
                workflow=definition.name,
                declaration=definition.evaluator,
            )
    checksum = definition.checksum
    try:
        with transaction.atomic():
            workflow, _ = Workflow.objects.get_or_create(tenant=tenant, name=definition.name)
    except IntegrityError:
        workflow = Workflow.objects.get(tenant=tenant, name=definition.name)
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        existing = workflow.versions.filter(checksum=checksum).first()
        if existing is not None:
            return existing, False
        latest = workflow.latest_version()
        version = WorkflowVersion.objects.create(
            workflow=workflow,
            number=1 if latest is None else latest.number + 1,
            checksum=checksum,
            definition=definition.as_json(),
            timeout_seconds=definition.timeout_seconds,
        )
        Step.objects.bulk_create(
            Step(
                version=version,
                name=step.name,
                action=f"{definition.name}:{step.name}",
                parents=step.parents,
                timeout_seconds=step.timeout_seconds,
                schedule_timeout_seconds=step.schedule_timeout_seconds,
                retries=step.retries,
                backoff_initial_seconds=step.backoff_initial_seconds,
                backoff_factor=step.backoff_factor,
                backoff_max_seconds=step.backoff_max_seconds,
                is_on_failure=step.on_failure,
                rate_limits=step.rate_limits,
                desired_worker_labels=step.desired_worker_labels,
                sticky=definition.sticky or "",
                concurrency=step.concurrency,
                durable=step.durable,
                position=position,
            )
            for position, step in enumerate(definition.steps)
        )
        sync_event_triggers(version, definition.on_events)
        sync_declared_crons(version, definition.on_crons)
        # Now for this transaction's own triggers, and again once others can see it.
        forget_latest_version(tenant.pk, definition.name)
        transaction.on_commit(functools.partial(forget_latest_version, tenant.pk, definition.name))
    return version, True
