"""Code evaluators: a function next to the workflow that scores one of its outputs.

`@hatchet.evaluator("polite", workflow="SupportReply")` on `(input, output, expected)`
makes, for the worker that registers it, a one-step workflow named
`SupportReply.evaluate.polite` whose step calls the function on the run's input
`{input, output, expected, metadata}`; the server runs it like any step (slots,
timeouts, retries, logs) each time the playground scores a cell with it. The function
returns a score from 0 to 1: a number, a bool (1 or 0), a `(score, reason)` pair, a
mapping or object with `score` and `reason`, or an `Evaluation`. The server checks the
score's range and type and names a wrong value in the score's error.
"""

import inspect
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hatchet.sdk.context import Context
from hatchet.sdk.workflow import (
    StepSpec,
    WorkflowSpec,
    check_name,
    positive_duration,
    workflow_spec_of,
)

F = TypeVar("F", bound=Callable[..., Any])

EVALUATOR_ATTRIBUTE = "__hatchet_evaluator__"
EVALUATE_STEP = "evaluate"
# `<workflow>.evaluate.<name>`: the evaluator workflow's name, which must stay a valid
# workflow name (at most 200 characters).
_INFIX = f".{EVALUATE_STEP}."
_MAX_WORKFLOW_NAME = 200


@dataclass(frozen=True)
class Evaluation:
    """An evaluator's full answer: a score from 0 to 1 and the reason a person reads."""

    score: float
    reason: str = ""


@dataclass(frozen=True)
class EvaluatorSpec:
    """A code evaluator as declared by `@evaluator`."""

    name: str
    workflow: str
    step: str
    function: str
    timeout: str | None
    retries: int
    # Passed as the keyword `metadata` when the function takes one.
    takes_metadata: bool

    @property
    def workflow_name(self) -> str:
        return f"{self.workflow}{_INFIX}{self.name}"

    def workflow_spec(self) -> WorkflowSpec:
        return WorkflowSpec(
            name=self.workflow_name,
            description=f"Code evaluator '{self.name}' of {self.workflow} ({self.function})",
            version="",
            on_events=(),
            on_crons=(),
            timeout=None,
            schedule_timeout=None,
            steps=(StepSpec(EVALUATE_STEP, (), self.timeout, self.retries, None),),
        )

    def to_definition(self, worker_name: str) -> dict[str, Any]:
        """The evaluator workflow's definition, declaring what it evaluates
        (docs/protocol.md, "Code evaluators")."""
        return {
            **self.workflow_spec().to_definition(),
            "evaluator": {
                "name": self.name,
                "workflow": self.workflow,
                "step": self.step,
                "function": self.function,
                "worker": worker_name,
            },
        }


def evaluator(
    name: str,
    *,
    workflow: str | type,
    step: str | None = None,
    timeout: str | None = None,
    retries: int = 0,
) -> Callable[[F], F]:
    """Declare a function `(input, output, expected)` (sync or async; an optional keyword
    `metadata` gets the comparison, cell and evaluator ids) as the code evaluator `name`
    of `workflow` (its name or its `@workflow` class), scoring the output of `step`
    (None: the step whose output the playground shows). The function is returned as
    it is; register it with `worker.register_evaluator(function)`."""
    check_name(name, "evaluator")
    workflow_name = workflow if isinstance(workflow, str) else workflow_spec_of(workflow).name
    check_name(workflow_name, "workflow")
    if step is not None:
        check_name(step, "step")
    if len(workflow_name) + len(_INFIX) + len(name) > _MAX_WORKFLOW_NAME:
        raise ValueError(
            f"evaluator {name!r} of {workflow_name!r}: the workflow name "
            f"'{workflow_name}{_INFIX}{name}' would be longer than {_MAX_WORKFLOW_NAME} characters"
        )
    if timeout is not None:
        positive_duration(timeout, "evaluator timeout")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer, not {retries!r}")

    def decorate(function: F) -> F:
        if not callable(function):
            raise TypeError("@evaluator decorates a function")
        signature = inspect.signature(function)
        takes_metadata = "metadata" in signature.parameters
        try:
            signature.bind(None, None, None, **({"metadata": {}} if takes_metadata else {}))
        except TypeError:
            raise TypeError(
                f"evaluator {name!r}: {function.__qualname__}{signature} must take "
                "(input, output, expected) and, if it likes, metadata"
            ) from None
        spec = EvaluatorSpec(
            name=name,
            workflow=workflow_name,
            step=step or "",
            function=f"{module_name(function)}.{function.__qualname__}",
            timeout=timeout,
            retries=retries,
            takes_metadata=takes_metadata,
        )
        setattr(function, EVALUATOR_ATTRIBUTE, spec)
        return function

    return decorate


def module_name(function: Callable[..., Any]) -> str:
    """The function's module as a person finds it: a worker started with `python -m
    examples.support_reply` (or `python worker.py`) runs it as `__main__`."""
    module = function.__module__
    main = sys.modules.get("__main__")
    if module != "__main__" or main is None:
        return module
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return str(spec.name)
    path = getattr(main, "__file__", None)
    return Path(path).stem if path else module


def evaluator_spec_of(function: object) -> EvaluatorSpec:
    spec = getattr(function, EVALUATOR_ATTRIBUTE, None)
    if not isinstance(spec, EvaluatorSpec):
        raise TypeError(f"{function!r} is not an evaluator: decorate it with @hatchet.evaluator")
    return spec


def evaluate_step(spec: EvaluatorSpec, function: Callable[..., Any]) -> Callable[[Context], Any]:
    """The evaluator workflow's step: the function called on the run's input, its
    answer as `{score, reason}`; async when the function is."""

    def arguments(context: Context) -> tuple[list[Any], dict[str, Any]]:
        given = context.workflow_input()
        given = given if isinstance(given, Mapping) else {}
        keywords = {"metadata": given.get("metadata") or {}} if spec.takes_metadata else {}
        return [given.get("input"), given.get("output"), given.get("expected")], keywords

    if inspect.iscoroutinefunction(function):

        async def evaluate_async(context: Context) -> dict[str, Any]:
            args, keywords = arguments(context)
            return scored(spec.name, await function(*args, **keywords))

        return evaluate_async

    def evaluate(context: Context) -> dict[str, Any]:
        args, keywords = arguments(context)
        return scored(spec.name, function(*args, **keywords))

    return evaluate


def scored(name: str, answer: Any) -> dict[str, Any]:
    """`{score, reason}` from what an evaluator returned. The score is sent as given
    (a bool as 1 or 0) for the server to check; a value that is no score at all is
    refused here, naming it."""
    if isinstance(answer, bool | int | float):
        score, reason = answer, ""
    elif isinstance(answer, tuple) and len(answer) == 2:
        score, reason = answer
    elif isinstance(answer, Mapping) and "score" in answer:
        score, reason = answer["score"], answer.get("reason", "")
    elif hasattr(answer, "score") and not isinstance(answer, str | bytes):
        score, reason = answer.score, getattr(answer, "reason", "")
    else:
        raise TypeError(
            f"evaluator {name!r} returned {answer!r}: return a score from 0 to 1, a bool, "
            "(score, reason), {'score': ..., 'reason': ...} or an Evaluation"
        )
    sent: Any = score
    if isinstance(score, bool):
        sent = 1.0 if score else 0.0
    elif isinstance(score, float) and not math.isfinite(score):
        sent = repr(score)  # JSON has no NaN or infinity; the server names the value
    return {"score": sent, "reason": "" if reason is None else str(reason)}
