"""What an evaluator makes of one output: the built-in checks a product manager
configures without code (contains, regex, equals expected, JSON, length, latency and
cost bounds) and the LLM judge, each giving a score from 0 to 1, pass or fail and a
reason a person reads ("contains 'refund'", "3,214 ms > 2,000 ms")."""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from playground.models import EvaluatorKind, ScoreStatus
from playground.outcomes import json_changes

SHOWN_CHARS = 60


@dataclass(frozen=True)
class Subject:
    """What an evaluator looks at: a cell's input, the evaluated step's output, the
    row's expected output (None: the row has none), the run's duration and cost."""

    input: Any
    output: Any
    expected: Any = None
    duration_ms: float | None = None
    cost: float | None = None


@dataclass(frozen=True)
class Verdict:
    """A score as it is stored: done with a value, or an error that says why not; a
    code evaluator's names the run that gives it."""

    status: str
    value: float | None = None
    passed: bool | None = None
    reason: str = ""
    error: str = ""
    tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None
    run: UUID | None = None


class CannotEvaluate(Exception):
    """The evaluator could not give a verdict (the message says why); a judge's
    spending on the failed attempt is kept."""

    def __init__(
        self,
        message: str,
        *,
        tokens: int | None = None,
        cost: float | None = None,
        latency_ms: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.tokens = tokens
        self.cost = cost
        self.latency_ms = latency_ms


@dataclass(frozen=True)
class Judgement:
    """A value from 0 to 1 and its reason, with what producing it cost (a judge's)."""

    value: float
    reason: str
    tokens: int | None = None
    cost: float | None = None
    latency_ms: float | None = None


def shown(value: Any) -> str:
    """A value as a reason quotes it: text as is, anything else as JSON, cut short."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def text_of(output: Any) -> str:
    """The text a person reads in an output: a string, or the one string field of an
    object ({"reply": "..."}); anything else as JSON."""
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and len(output) == 1:
        [value] = output.values()
        if isinstance(value, str):
            return value
    if output is None:
        return ""
    return json.dumps(output, ensure_ascii=False)


def number(value: float, unit: str) -> str:
    return f"{round(value):,} {unit}"


def usd(value: float) -> str:
    return f"${value:.4f}"


def passes(passed: bool, reason: str) -> Judgement:
    return Judgement(1.0 if passed else 0.0, reason)


def contains(config: dict[str, Any], subject: Subject) -> Judgement:
    needle, text = config["text"], text_of(subject.output)
    if not config.get("case_sensitive"):
        needle, text = needle.lower(), text.lower()
    found = needle in text
    return passes(found, f"{'contains' if found else 'does not contain'} '{config['text']}'")


def not_contains(config: dict[str, Any], subject: Subject) -> Judgement:
    found = contains(config, subject)
    return passes(found.value == 0.0, found.reason)


def regex(config: dict[str, Any], subject: Subject) -> Judgement:
    flags = 0 if config.get("case_sensitive") else re.IGNORECASE
    found = re.search(config["pattern"], text_of(subject.output), flags) is not None
    return passes(found, f"{'matches' if found else 'does not match'} /{config['pattern']}/")


def equals_expected(_config: dict[str, Any], subject: Subject) -> Judgement:
    """JSON equality, or, where either side is text, equal text once stripped."""
    expected, output = subject.expected, subject.output
    if expected is None:
        raise CannotEvaluate("The row has no expected output to compare with.")
    equal = not json_changes(expected, output)
    if not equal and (isinstance(expected, str) or isinstance(output, str)):
        equal = text_of(expected).strip() == text_of(output).strip()
    if equal:
        return passes(True, "equals the expected output")
    return passes(False, f"expected {shown(expected)}, got {shown(output)}")


class NotJSON(Exception):
    """Text that does not parse; the message is a reason ("is not valid JSON: ...")."""


def parsed_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise NotJSON(
            f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def is_json(_config: dict[str, Any], subject: Subject) -> Judgement:
    """Text (or an object's one text field) must parse; a structured output is JSON."""
    output = subject.output
    if not isinstance(output, str) and text_of(output) == json.dumps(output, ensure_ascii=False):
        return passes(True, "is JSON")
    try:
        parsed_json(text_of(output))
    except NotJSON as refused:
        return passes(False, str(refused))
    return passes(True, "is valid JSON")


def json_schema(config: dict[str, Any], subject: Subject) -> Judgement:
    """The output (text is parsed first) against the schema (JSON Schema 2020-12)."""
    instance = subject.output
    if isinstance(instance, str):
        try:
            instance = parsed_json(instance)
        except NotJSON as refused:
            return passes(False, str(refused))
    error = best_match(Draft202012Validator(config["schema"]).iter_errors(instance))
    if error is None:
        return passes(True, "matches the schema")
    return passes(False, f"does not match the schema: {error.message} (at {error.json_path})")


def length(config: dict[str, Any], subject: Subject) -> Judgement:
    """Bounds in characters: `min`, `max` or both (the other is None)."""
    size, low, high = len(text_of(subject.output)), config["min"], config["max"]
    if low is not None and size < low:
        return passes(False, f"{number(size, 'chars')} < {number(low, 'chars')}")
    if high is not None and size > high:
        return passes(False, f"{number(size, 'chars')} > {number(high, 'chars')}")
    if low is not None and high is not None:
        return passes(True, f"{number(size, 'chars')}, within {low:,} to {high:,}")
    if high is not None:
        return passes(True, f"{number(size, 'chars')} ≤ {number(high, 'chars')}")
    return passes(True, f"{number(size, 'chars')} ≥ {number(low, 'chars')}")


def latency(config: dict[str, Any], subject: Subject) -> Judgement:
    if subject.duration_ms is None:
        raise CannotEvaluate("The run has no duration.")
    duration, bound = subject.duration_ms, config["max_ms"]
    if duration > bound:
        return passes(False, f"{number(duration, 'ms')} > {number(bound, 'ms')}")
    return passes(True, f"{number(duration, 'ms')} ≤ {number(bound, 'ms')}")


def cost(config: dict[str, Any], subject: Subject) -> Judgement:
    if subject.cost is None:
        raise CannotEvaluate(
            "The run has no cost: its steps reported no token usage, or a model with no "
            "price (HATCHET_MODEL_PRICES)."
        )
    spent, bound = subject.cost, config["max_usd"]
    if spent > bound:
        return passes(False, f"{usd(spent)} > {usd(bound)}")
    return passes(True, f"{usd(spent)} ≤ {usd(bound)}")


def llm_judge(config: dict[str, Any], subject: Subject) -> Judgement:
    from playground.judge import judge  # the OpenAI client, loaded when a judge runs

    return judge(config["rubric"], config["model"], subject)


JUDGES: dict[str, Callable[[dict[str, Any], Subject], Judgement]] = {
    EvaluatorKind.CONTAINS: contains,
    EvaluatorKind.NOT_CONTAINS: not_contains,
    EvaluatorKind.REGEX: regex,
    EvaluatorKind.EQUALS_EXPECTED: equals_expected,
    EvaluatorKind.IS_JSON: is_json,
    EvaluatorKind.JSON_SCHEMA: json_schema,
    EvaluatorKind.LENGTH: length,
    EvaluatorKind.LATENCY: latency,
    EvaluatorKind.COST: cost,
    EvaluatorKind.LLM_JUDGE: llm_judge,
}


def evaluate(kind: str, config: dict[str, Any], threshold: float, subject: Subject) -> Verdict:
    """The verdict of an evaluator of `kind` (its config as validated) on `subject`;
    a score of at least `threshold` passes. Never raises for what it evaluates."""
    try:
        judgement = JUDGES[kind](config, subject)
    except CannotEvaluate as failed:
        return Verdict(
            ScoreStatus.ERROR,
            error=failed.message,
            tokens=failed.tokens,
            cost=failed.cost,
            latency_ms=failed.latency_ms,
        )
    return Verdict(
        ScoreStatus.DONE,
        value=judgement.value,
        passed=judgement.value >= threshold,
        reason=judgement.reason,
        tokens=judgement.tokens,
        cost=judgement.cost,
        latency_ms=judgement.latency_ms,
    )
