"""The `workflow` and `step` decorators and the definition they build for the server."""

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from hatchet.wire.durations import parse_duration

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

STEP_ATTRIBUTE = "__hatchet_step__"
WORKFLOW_ATTRIBUTE = "__hatchet_workflow__"

_BACKOFF_KEYS = {"initial", "factor", "max"}
_STRATEGIES = ("GROUP_ROUND_ROBIN", "CANCEL_IN_PROGRESS", "CANCEL_NEWEST")
# The server's priorities: 1 (the default) to 4, the most urgent.
_PRIORITIES = range(1, 5)
_PERIODS = ("second", "minute", "hour", "day")
_COMPARATORS = ("=", "!=", "<", "<=", ">", ">=")
_STICKY = ("soft", "hard")
_MIN_BACKOFF_FACTOR = 1
_MAX_BACKOFF_FACTOR = 10
# The server's rule for workflow and step names (workflows/engine/definitions.py).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")


@dataclass(frozen=True)
class Concurrency:
    """At most `max_runs` runs per key go at once; `key` is a path into each run's input
    or metadata ("input.customer_id", "metadata.tenant"). When a run comes and its key
    is full, `strategy` says what happens: "GROUP_ROUND_ROBIN" (it waits its turn, and
    a key that floods cannot starve the others), "CANCEL_IN_PROGRESS" (the key's oldest
    runs are cancelled to make room) or "CANCEL_NEWEST" (it is cancelled). Workflows
    naming the same `scope` share the limit per key."""

    key: str
    max_runs: int = 1
    strategy: str = "GROUP_ROUND_ROBIN"
    scope: str | None = None

    def __post_init__(self) -> None:
        _check_path(self.key, "Concurrency key")
        if (
            isinstance(self.max_runs, bool)
            or not isinstance(self.max_runs, int)
            or self.max_runs < 1
        ):
            raise ValueError(f"max_runs must be a positive integer, not {self.max_runs!r}")
        if self.strategy not in _STRATEGIES:
            raise ValueError(
                f"strategy must be one of {', '.join(_STRATEGIES)}, not {self.strategy!r}"
            )

    def to_definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "key": self.key,
            "max_runs": self.max_runs,
            "strategy": self.strategy,
        }
        if self.scope is not None:
            definition["scope"] = self.scope
        return definition


@dataclass(frozen=True)
class RateLimit:
    """Units a step takes of a rate limit at each attempt, as it is assigned: of the
    limit named `key` (created with `hatchet.rate_limits.put`), or of one per value of
    `dynamic_key` (a path such as "input.user_id"), `limit` units per `period` each,
    created on first use. `units` is a count or a path ("input.tokens"). A step whose
    units are not free waits in the queue until they are; it never fails for it."""

    key: str | None = None
    units: int | str = 1
    dynamic_key: str | None = None
    limit: int | None = None
    period: str | None = None

    def __post_init__(self) -> None:
        if (self.key is None) == (self.dynamic_key is None):
            raise ValueError("RateLimit takes either key= or dynamic_key=")
        if isinstance(self.units, str):
            _check_path(self.units, "units")
        elif isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise ValueError(f"units must be a positive integer or a path, not {self.units!r}")
        if self.key is not None:
            if self.limit is not None or self.period is not None:
                raise ValueError(
                    "limit and period go with dynamic_key; set a key's with hatchet.rate_limits.put"
                )
            return
        _check_path(self.dynamic_key or "", "dynamic_key")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"a dynamic_key needs limit=, a positive integer, not {self.limit!r}")
        if self.period not in _PERIODS:
            raise ValueError(f"a dynamic_key needs period=, one of {', '.join(_PERIODS)}")

    def to_definition(self) -> dict[str, Any]:
        if self.key is not None:
            return {"key": self.key, "units": self.units}
        return {
            "dynamic_key": self.dynamic_key,
            "units": self.units,
            "limit": self.limit,
            "period": self.period,
        }


@dataclass(frozen=True)
class DesiredLabel:
    """What a step wants of a worker's label: its `value`, compared with the worker's
    by `comparator` ("=", "!=", "<", "<=", ">", ">=": the worker's value on the left).
    A `required` label keeps the step off workers without it; a preferred one sends
    the step to the workers matching the most `weight`, others taking it only once it
    has waited a little (the server's HATCHET_PREFERENCE_WAIT)."""

    value: str | int | float | bool
    required: bool = False
    comparator: str = "="
    weight: int = 100

    def __post_init__(self) -> None:
        if not isinstance(self.value, str | int | float | bool):
            raise TypeError("a label's value is text, a number, true or false")
        if self.comparator not in _COMPARATORS:
            raise ValueError(f"comparator must be one of {' '.join(_COMPARATORS)}")
        ordered = self.comparator in ("<", "<=", ">", ">=")
        if ordered and (isinstance(self.value, bool) or not isinstance(self.value, int | float)):
            raise ValueError(f"{self.comparator} compares numbers only")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 1:
            raise ValueError(f"weight must be a positive integer, not {self.weight!r}")

    def to_definition(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "comparator": self.comparator,
            "required": self.required,
            "weight": self.weight,
        }


def _check_path(expression: str, what: str) -> None:
    root, _, rest = expression.partition(".")
    if root not in ("input", "metadata") or not rest:
        raise ValueError(f"{what} must be a path such as 'input.customer_id', not {expression!r}")


@dataclass(frozen=True)
class StepSpec:
    """One step as declared by `@step`; its name is the method's name."""

    name: str
    parents: tuple[str, ...]
    timeout: str | None
    retries: int
    backoff: dict[str, Any] | None
    on_failure: bool = False
    rate_limits: tuple[RateLimit, ...] = ()
    desired_worker_labels: tuple[tuple[str, DesiredLabel], ...] = ()
    concurrency: Concurrency | None = None
    durable: bool = False

    def to_definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "name": self.name,
            "parents": list(self.parents),
            "retries": self.retries,
        }
        # Unset keys are left out so that the server's defaults apply.
        if self.timeout is not None:
            definition["timeout"] = self.timeout
        if self.backoff is not None:
            definition["backoff"] = dict(self.backoff)
        if self.on_failure:
            definition["on_failure"] = True
        if self.rate_limits:
            definition["rate_limits"] = [limit.to_definition() for limit in self.rate_limits]
        if self.concurrency is not None:
            definition["concurrency"] = self.concurrency.to_definition()
        if self.durable:
            definition["durable"] = True
        if self.desired_worker_labels:
            definition["desired_worker_labels"] = {
                label: want.to_definition() for label, want in self.desired_worker_labels
            }
        return definition


@dataclass(frozen=True)
class WorkflowSpec:
    """A workflow as declared by `@workflow`: its triggers, limits and steps in class order."""

    name: str
    description: str
    version: str
    on_events: tuple[str, ...]
    on_crons: tuple[str, ...]
    timeout: str | None
    schedule_timeout: str | None
    steps: tuple[StepSpec, ...]
    priority: int | None = None
    concurrency: Concurrency | None = None
    sticky: str | None = None

    def action(self, step_name: str) -> str:
        return f"{self.name}:{step_name}"

    def to_definition(self) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "on_events": list(self.on_events),
            "on_crons": list(self.on_crons),
        }
        if self.timeout is not None:
            definition["timeout"] = self.timeout
        if self.schedule_timeout is not None:
            definition["schedule_timeout"] = self.schedule_timeout
        if self.priority is not None:
            definition["priority"] = self.priority
        if self.concurrency is not None:
            definition["concurrency"] = self.concurrency.to_definition()
        if self.sticky is not None:
            definition["sticky"] = self.sticky
        definition["steps"] = [step.to_definition() for step in self.steps]
        return definition


def workflow_spec_of(obj: object) -> WorkflowSpec:
    """The spec of a class decorated with `@workflow` (or of an instance of one)."""
    cls = obj if isinstance(obj, type) else type(obj)
    spec = getattr(cls, WORKFLOW_ATTRIBUTE, None)
    if not isinstance(spec, WorkflowSpec):
        raise TypeError(f"{cls.__name__} is not a workflow: decorate the class with @workflow")
    return spec


def step(
    *,
    timeout: str | None = None,
    retries: int = 0,
    parents: Iterable[str] | None = None,
    backoff: dict[str, Any] | None = None,
    rate_limits: Iterable[RateLimit] = (),
    desired_worker_labels: dict[str, DesiredLabel] | None = None,
    concurrency: Concurrency | None = None,
    durable: bool = False,
) -> Callable[[F], F]:
    """Mark a method of a workflow class as a step named after the method; each of its
    attempts takes the units of `rate_limits` (see RateLimit), on a worker whose labels
    meet `desired_worker_labels` ({"gpu": DesiredLabel(True, required=True)}), with
    at most `concurrency.max_runs` of its step runs per key held by workers at once
    (the others wait their turn in the queue).

    A `durable` step may wait (`context.sleep_for`, `context.wait_for_event`, a child's
    result) without holding a worker's slot: when a wait ends, the step runs again from
    its start on any worker, and each wait it already made returns what it returned the
    first time, so its code must make the same waits in the same order every time."""
    return _step_decorator(
        timeout,
        retries,
        _parents(parents),
        backoff,
        on_failure=False,
        rate_limits=rate_limits,
        desired_worker_labels=desired_worker_labels,
        concurrency=concurrency,
        durable=durable,
    )


def on_failure_step(
    *,
    timeout: str | None = None,
    retries: int = 0,
    backoff: dict[str, Any] | None = None,
) -> Callable[[F], F]:
    """Mark the method that runs when any other step of the workflow fails for good,
    before the run fails; `context.step_run_errors()` holds what failed."""
    return _step_decorator(timeout, retries, (), backoff, on_failure=True)


def _step_decorator(
    timeout: str | None,
    retries: int,
    parent_names: tuple[str, ...],
    backoff: dict[str, Any] | None,
    *,
    on_failure: bool,
    rate_limits: Iterable[RateLimit] = (),
    desired_worker_labels: dict[str, DesiredLabel] | None = None,
    concurrency: Concurrency | None = None,
    durable: bool = False,
) -> Callable[[F], F]:
    if not isinstance(durable, bool):
        raise TypeError(f"durable must be True or False, not {durable!r}")
    if timeout is not None:
        positive_duration(timeout, "step timeout")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, not {retries!r}")
    checked_backoff = _backoff(backoff)
    limits = tuple(rate_limits)
    if not all(isinstance(limit, RateLimit) for limit in limits):
        raise TypeError("rate_limits must be RateLimit(...) objects")
    desired = tuple((desired_worker_labels or {}).items())
    if not all(isinstance(label, str) and isinstance(w, DesiredLabel) for label, w in desired):
        raise TypeError("desired_worker_labels must map label names to DesiredLabel(...)")
    if concurrency is not None:
        if not isinstance(concurrency, Concurrency):
            raise TypeError("concurrency must be a Concurrency(key=..., max_runs=...)")
        if concurrency.strategy != "GROUP_ROUND_ROBIN":
            raise ValueError("a step's concurrency waits its turn: set cancelling on the workflow")

    def decorate(method: F) -> F:
        if not callable(method):
            raise TypeError("@step decorates a method")
        name = method.__name__
        check_name(name, "step")
        if name in parent_names:
            raise ValueError(f"step {name!r} cannot be its own parent")
        spec = StepSpec(
            name,
            parent_names,
            timeout,
            retries,
            checked_backoff,
            on_failure,
            limits,
            desired,
            concurrency,
            durable,
        )
        setattr(method, STEP_ATTRIBUTE, spec)
        return method

    return decorate


def workflow(
    *,
    name: str | None = None,
    on_events: Iterable[str] | None = None,
    on_crons: Iterable[str] | None = None,
    timeout: str | None = None,
    schedule_timeout: str | None = None,
    description: str | None = None,
    version: str = "",
    priority: int | None = None,
    concurrency: Concurrency | None = None,
    sticky: str | None = None,
) -> Callable[[C], C]:
    """Declare a class as a workflow whose `@step` methods form its DAG.

    The name defaults to the class name and the description to the class docstring.
    `priority` (1-4, 4 the most urgent; the server's default is 1) is its runs' unless
    a trigger names another: workers take the more urgent steps first, across workflows.
    `concurrency` limits how many of its runs go at once per key (see Concurrency).
    `sticky` keeps each run's steps on the worker that took its first step: "soft"
    prefers it, "hard" allows only it (or, once it is gone, a worker of its name).
    """
    if sticky is not None and sticky not in _STICKY:
        raise ValueError(f"sticky must be 'soft' or 'hard', not {sticky!r}")
    if concurrency is not None and not isinstance(concurrency, Concurrency):
        raise TypeError("concurrency must be a Concurrency(key=..., max_runs=..., strategy=...)")
    if priority is not None:
        check_priority(priority)
    events = _strings(on_events, "on_events")
    crons = _strings(on_crons, "on_crons")
    if timeout is not None:
        positive_duration(timeout, "workflow timeout")
    if schedule_timeout is not None:
        positive_duration(schedule_timeout, "schedule_timeout")
    if not isinstance(version, str):
        raise TypeError("version must be a string")

    def decorate(workflow_cls: C) -> C:
        if not isinstance(workflow_cls, type):
            raise TypeError("@workflow decorates a class")
        workflow_name = name if name is not None else workflow_cls.__name__
        check_name(workflow_name, "workflow")
        steps = _collect_steps(workflow_cls)
        if not steps:
            raise ValueError(f"workflow {workflow_name!r} has no steps: mark methods with @step")
        _check_dag(workflow_name, steps)
        spec = WorkflowSpec(
            name=workflow_name,
            description=description
            if description is not None
            else (inspect.getdoc(workflow_cls) or ""),
            version=version,
            on_events=events,
            on_crons=crons,
            timeout=timeout,
            schedule_timeout=schedule_timeout,
            steps=steps,
            priority=priority,
            concurrency=concurrency,
            sticky=sticky,
        )
        setattr(workflow_cls, WORKFLOW_ATTRIBUTE, spec)
        return workflow_cls

    return decorate


def _collect_steps(cls: type) -> tuple[StepSpec, ...]:
    # Base classes first so that a subclass can add steps or redefine one in place.
    found: dict[str, StepSpec] = {}
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            spec = getattr(value, STEP_ATTRIBUTE, None)
            if isinstance(spec, StepSpec):
                found[attribute] = spec
            elif attribute in found:
                del found[attribute]
    for attribute, spec in found.items():
        if attribute != spec.name:
            raise ValueError(
                f"step {spec.name!r} is bound to the attribute {attribute!r}: "
                "a step's name is its method's name"
            )
    return tuple(found.values())


def _check_dag(workflow_name: str, steps: tuple[StepSpec, ...]) -> None:
    names = {spec.name for spec in steps}
    handlers = [spec.name for spec in steps if spec.on_failure]
    if len(handlers) > 1:
        raise ValueError(
            f"workflow {workflow_name!r} has more than one @on_failure_step: {', '.join(handlers)}"
        )
    if handlers and len(steps) == 1:
        raise ValueError(f"workflow {workflow_name!r} has only its @on_failure_step")
    for spec in steps:
        if set(handlers) & set(spec.parents):
            raise ValueError(
                f"step {spec.name!r} of workflow {workflow_name!r} cannot wait for the "
                f"on-failure step {handlers[0]!r}"
            )
    for spec in steps:
        for parent in spec.parents:
            if parent not in names:
                raise ValueError(
                    f"step {spec.name!r} of workflow {workflow_name!r} has an unknown parent "
                    f"{parent!r} (steps: {', '.join(sorted(names))})"
                )
    remaining = {spec.name: set(spec.parents) for spec in steps}
    while remaining:
        ready = [name for name, parents in remaining.items() if not parents]
        if not ready:
            raise ValueError(
                f"workflow {workflow_name!r} has a cycle among steps {', '.join(sorted(remaining))}"
            )
        for name in ready:
            del remaining[name]
        for parents in remaining.values():
            parents.difference_update(ready)


def _parents(parents: Iterable[str] | None) -> tuple[str, ...]:
    names = _strings(parents, "parents")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"parents lists {', '.join(duplicates)} more than once")
    return names


def _strings(values: Iterable[str] | None, what: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of strings, not a string")
    result = tuple(values)
    for value in result:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{what} must hold non-empty strings, got {value!r}")
    return result


def check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid {what} name {name!r}: use letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'"
        )


def check_priority(priority: int) -> int:
    if isinstance(priority, bool) or priority not in _PRIORITIES:
        raise ValueError(
            f"priority must be an integer from 1 to 4 (4 the most urgent), not {priority!r}"
        )
    return priority


def positive_duration(value: str, what: str) -> None:
    if parse_duration(value) <= 0:
        raise ValueError(f"{what} must be longer than zero, got {value!r}")


def _backoff(backoff: dict[str, Any] | None) -> dict[str, Any] | None:
    if backoff is None:
        return None
    if not isinstance(backoff, dict):
        raise TypeError("backoff must be a dict like {'initial': '1s', 'factor': 2, 'max': '60s'}")
    unknown = set(backoff) - _BACKOFF_KEYS
    if unknown:
        raise ValueError(
            f"unknown backoff keys {', '.join(sorted(unknown))} (allowed: initial, factor, max)"
        )
    for key in ("initial", "max"):
        if key in backoff:
            positive_duration(backoff[key], f"backoff {key}")
    factor = backoff.get("factor", 1)
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not _MIN_BACKOFF_FACTOR <= factor <= _MAX_BACKOFF_FACTOR
    ):
        raise ValueError(
            f"backoff factor must be a number from {_MIN_BACKOFF_FACTOR} to "
            f"{_MAX_BACKOFF_FACTOR}, got {factor!r}"
        )
    return dict(backoff)
