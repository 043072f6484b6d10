"""The LLM judge: a rubric and an output sent to an OpenAI-compatible Chat Completions
API (OPENAI_BASE_URL, OPENAI_API_KEY) through the `openai` client, which retries a 429
or 5xx honouring Retry-After; the answer, JSON {score, reason}, read leniently and
refused precisely. With no key, an offline judge scores by a stable rule instead, so
the playground runs with no network, as the example's responder does."""

import functools
import json
import math
import re
import time
from typing import Any

import openai
from django.conf import settings
from openai.types.chat import ChatCompletionMessageParam

from playground.evaluation import CannotEvaluate, Judgement, Subject, shown, text_of
from playground.prices import cost_of

OFFLINE_LABEL = "[offline judge]"
INSTRUCTIONS = (
    "You grade the output of an AI workflow against a rubric. Answer with one JSON "
    'object and nothing else: {"score": <a number from 0 to 1, 1 meets the rubric '
    'fully>, "reason": "<one sentence a product manager understands>"}.'
)
FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
WORD = re.compile(r"[a-z][a-z0-9']{3,}")
# Words of a rubric that say how to judge rather than what to look for.
RUBRIC_WORDS = frozenset(
    WORD.findall(
        "about also answer answers been does each from have into less more must only output "
        "reply response should than that their them then they this what when which will with "
        "your score mention mentions"
    )
)


def judge_messages(rubric: str, subject: Subject) -> list[ChatCompletionMessageParam]:
    parts = [f"Rubric:\n{rubric}", f"Input:\n{json.dumps(subject.input, ensure_ascii=False)}"]
    if subject.expected is not None:
        parts.append(f"Expected output:\n{text_of(subject.expected)}")
    parts.append(f"Output:\n{text_of(subject.output)}")
    return [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


@functools.lru_cache(maxsize=4)
def client_for(
    api_key: str, base_url: str | None, max_retries: int, timeout: float
) -> openai.OpenAI:
    """One client per process and settings, shared by the judging threads: making one
    builds an HTTP client and its TLS context (~45 ms, bench/comparison.py --judge),
    and a shared one keeps its connections open between judgements."""
    return openai.OpenAI(
        api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
    )


def judge(rubric: str, model: str, subject: Subject) -> Judgement:
    if not settings.OPENAI_API_KEY:
        return offline_judgement(rubric, subject)
    client = client_for(
        settings.OPENAI_API_KEY,
        settings.OPENAI_BASE_URL,
        settings.HATCHET_JUDGE_MAX_RETRIES,
        settings.HATCHET_JUDGE_TIMEOUT,
    )
    started = time.monotonic()
    try:
        completion = client.chat.completions.create(
            model=model, messages=judge_messages(rubric, subject)
        )
    except openai.APIError as error:
        raise CannotEvaluate(
            f"The judge ({model}) did not answer: {failure_of(error)}",
            latency_ms=elapsed_ms(started),
        ) from None
    latency = elapsed_ms(started)
    usage = completion.usage
    prompt = usage.prompt_tokens if usage else 0
    answered = usage.completion_tokens if usage else 0
    tokens = prompt + answered if usage else None
    spent = cost_of(completion.model or model, prompt, answered) if usage else None
    content = completion.choices[0].message.content if completion.choices else None
    try:
        score, reason = read_answer(content)
    except CannotEvaluate as refused:
        raise CannotEvaluate(
            refused.message, tokens=tokens, cost=spent, latency_ms=latency
        ) from None
    return Judgement(score, reason, tokens=tokens, cost=spent, latency_ms=latency)


def failure_of(error: openai.APIError) -> str:
    retried = isinstance(error, openai.APIStatusError) and (
        error.status_code == 429 or error.status_code >= 500
    )
    retries = f" (after {settings.HATCHET_JUDGE_MAX_RETRIES} retries)" if retried else ""
    return f"{error.message}{retries}"


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def read_answer(content: str | None) -> tuple[float, str]:
    """(score, reason) from the judge's answer: JSON, perhaps fenced or with words
    around the object; a score is a number (or numeric text) from 0 to 1."""
    text = (content or "").strip()
    fenced = FENCED.match(text)
    if fenced:
        text = fenced.group(1)
    answer = json_object_in(text)
    if answer is None or "score" not in answer:
        raise CannotEvaluate(
            f"The judge did not answer JSON {{score, reason}}: {shown(content or '(nothing)')}"
        )
    score = answer["score"]
    value = None
    if not isinstance(score, bool) and isinstance(score, int | float | str):
        try:
            value = float(score)
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        raise CannotEvaluate(f"The judge's score {shown(score)} is not a number from 0 to 1.")
    reason = answer.get("reason")
    return value, reason.strip() if isinstance(reason, str) and reason.strip() else "(no reason)"


def json_object_in(text: str) -> dict[str, Any] | None:
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            answer = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(answer, dict):
            return answer
    return None


def offline_judgement(rubric: str, subject: Subject) -> Judgement:
    """The share of the rubric's content words that the output contains: stable, free,
    and moving the right way when an output gets closer to what the rubric asks."""
    started = time.monotonic()
    words = list(dict.fromkeys(w for w in WORD.findall(rubric.lower()) if w not in RUBRIC_WORDS))
    output = text_of(subject.output).lower()
    if not words:
        value = 1.0 if output.strip() else 0.0
        reason = f"{OFFLINE_LABEL} the rubric names no words to look for; the output is " + (
            "not empty" if value else "empty"
        )
    else:
        found = [word for word in words if word in output]
        value = round(len(found) / len(words), 4)
        reason = f"{OFFLINE_LABEL} {len(found)} of {len(words)} rubric words in the output"
        if found:
            reason += f": {', '.join(found[:5])}"
    return Judgement(value, reason, tokens=0, cost=0.0, latency_ms=elapsed_ms(started))
