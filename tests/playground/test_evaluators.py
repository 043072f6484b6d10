"""Evaluators: built-in checks and LLM judges attached to a workflow, their verdicts on
outputs, and the scores and column summaries they give comparison cells, live."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from examples.support_reply import openai_reply
from hatchet.models import Tenant
from hatchet.sdk import Context
from hatchet.settings import model_prices
from playground.evaluation import Subject, Verdict, evaluate
from playground.models import Score
from playground.prices import cost_of, cost_of_usages, price_of
from tests.e2e.live import stop_process, wait_for
from tests.factories import (
    PlaygroundWorker,
    member_client,
    open_socket,
    register_support,
    start_celery_worker,
)
from tests.openai_server import API_KEY, LoopbackOpenAI, usage_of
from workflows.engine.results import record_step_failed, record_step_started

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "required": ["reply", "priority"],
    "properties": {"reply": {"type": "string"}, "priority": {"enum": ["low", "urgent"]}},
}

# kind, config (as validated), subject, (value, passed, reason)
VERDICTS: list[tuple[str, dict[str, Any], Subject, tuple[float, bool, str]]] = [
    (
        "contains",
        {"text": "refund", "case_sensitive": False},
        Subject(None, "Your Refund is on its way."),
        (1.0, True, "contains 'refund'"),
    ),
    (
        "contains",
        {"text": "refund", "case_sensitive": True},
        Subject(None, "Your Refund is on its way."),
        (0.0, False, "does not contain 'refund'"),
    ),
    (
        "not_contains",
        {"text": "sorry", "case_sensitive": False},
        Subject(None, {"reply": "Thanks for writing."}),
        (1.0, True, "does not contain 'sorry'"),
    ),
    (
        "not_contains",
        {"text": "sorry", "case_sensitive": False},
        Subject(None, {"reply": "So SORRY."}),
        (0.0, False, "contains 'sorry'"),
    ),
    (
        "regex",
        {"pattern": r"order #\d+", "case_sensitive": False},
        Subject(None, "Order #123 has shipped."),
        (1.0, True, r"matches /order #\d+/"),
    ),
    (
        "regex",
        {"pattern": r"order #\d+", "case_sensitive": True},
        Subject(None, "Order #123 has shipped."),
        (0.0, False, r"does not match /order #\d+/"),
    ),
    (
        "equals_expected",
        {},
        Subject(None, {"a": 1, "b": [1, 2]}, expected={"b": [1, 2], "a": 1}),
        (1.0, True, "equals the expected output"),
    ),
    (
        "equals_expected",
        {},
        Subject(None, {"reply": "  Paris\n"}, expected="Paris"),
        (1.0, True, "equals the expected output"),
    ),
    (
        "equals_expected",
        {},
        Subject(None, {"reply": "Lyon"}, expected="Paris"),
        (0.0, False, 'expected Paris, got {"reply": "Lyon"}'),
    ),
    ("is_json", {}, Subject(None, '{"ok": true}'), (1.0, True, "is valid JSON")),
    ("is_json", {}, Subject(None, {"a": 1, "b": 2}), (1.0, True, "is JSON")),
    (
        "is_json",
        {},
        Subject(None, {"reply": "not json"}),
        (0.0, False, "is not valid JSON: Expecting value at line 1 column 1"),
    ),
    (
        "json_schema",
        {"schema": SCHEMA},
        Subject(None, '{"reply": "Hi", "priority": "low"}'),
        (1.0, True, "matches the schema"),
    ),
    (
        "json_schema",
        {"schema": SCHEMA},
        Subject(None, {"reply": 3, "priority": "low"}),
        (0.0, False, "does not match the schema: 3 is not of type 'string' (at $.reply)"),
    ),
    (
        "length",
        {"min": 5, "max": 1000},
        Subject(None, "x" * 1234),
        (0.0, False, "1,234 chars > 1,000 chars"),
    ),
    ("length", {"min": 5, "max": None}, Subject(None, "abc"), (0.0, False, "3 chars < 5 chars")),
    (
        "length",
        {"min": 5, "max": 1000},
        Subject(None, {"reply": "hello world"}),
        (1.0, True, "11 chars, within 5 to 1,000"),
    ),
    ("length", {"min": None, "max": 20}, Subject(None, "hello"), (1.0, True, "5 chars ≤ 20 chars")),
    ("length", {"min": 2, "max": None}, Subject(None, "hello"), (1.0, True, "5 chars ≥ 2 chars")),
    (
        "latency",
        {"max_ms": 2000.0},
        Subject(None, "x", duration_ms=3214.4),
        (0.0, False, "3,214 ms > 2,000 ms"),
    ),
    (
        "latency",
        {"max_ms": 2000.0},
        Subject(None, "x", duration_ms=1200.0),
        (1.0, True, "1,200 ms ≤ 2,000 ms"),
    ),
    ("cost", {"max_usd": 0.01}, Subject(None, "x", cost=0.03), (0.0, False, "$0.0300 > $0.0100")),
    ("cost", {"max_usd": 0.01}, Subject(None, "x", cost=0.0012), (1.0, True, "$0.0012 ≤ $0.0100")),
]


@pytest.mark.parametrize(("kind", "config", "subject", "verdict"), VERDICTS)
def test_each_built_in_check_passes_or_fails_with_a_reason_a_person_reads(
    kind: str, config: dict[str, Any], subject: Subject, verdict: tuple[float, bool, str]
) -> None:
    value, passed, reason = verdict
    assert evaluate(kind, config, 0.5, subject) == Verdict("done", value, passed, reason)


@pytest.mark.parametrize(
    ("kind", "config", "subject", "error"),
    [
        (
            "equals_expected",
            {},
            Subject(None, "Paris"),
            "The row has no expected output to compare with.",
        ),
        ("latency", {"max_ms": 10.0}, Subject(None, "x"), "The run has no duration."),
        (
            "cost",
            {"max_usd": 0.01},
            Subject(None, "x"),
            "The run has no cost: its steps reported no token usage, or a model with no "
            "price (HATCHET_MODEL_PRICES).",
        ),
    ],
)
def test_a_check_without_what_it_needs_is_an_error_not_a_failure(
    kind: str, config: dict[str, Any], subject: Subject, error: str
) -> None:
    assert evaluate(kind, config, 0.5, subject) == Verdict("error", error=error)


def test_the_operators_prices_are_laid_over_the_defaults(settings: Any) -> None:
    settings.HATCHET_MODEL_PRICES = model_prices(
        '{"house-model": {"prompt": 1, "completion": 2}, "gpt-4o": {"prompt": 3, "completion": 4}}'
    )

    assert cost_of("house-model", 1_000_000, 500_000) == 2.0
    assert price_of("gpt-4o") == {"prompt": 3.0, "completion": 4.0}
    # A dated release takes its family's price: the longest name it starts with.
    assert price_of("gpt-4o-mini-2024-07-18") == {"prompt": 0.15, "completion": 0.60}
    assert cost_of("unpriced", 10, 10) is None
    assert cost_of_usages([{"model": "house-model", "prompt_tokens": 10}, {"model": "x"}]) is None


def test_a_malformed_price_table_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        model_prices('{"house-model": {"prompt": 1}}')

    assert str(refused.value) == (
        'HATCHET_MODEL_PRICES must be JSON like {"model": {"prompt": 0.15, "completion": '
        "0.6}} (USD per million tokens): 'completion'"
    )


def new_evaluator(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/playground/evaluators", {"workflow": "Support", **body}, format="json")


def try_evaluator(api: APIClient, evaluator_id: str, **body: Any) -> Any:
    return api.post(f"/api/v1/playground/evaluators/{evaluator_id}/try", body, format="json")


def test_an_editor_attaches_a_check_and_tries_it_on_an_output(tenant: Tenant) -> None:
    register_support(tenant)
    editor = member_client(tenant, "editor", username="pm")

    response = new_evaluator(
        editor, name="mentions refund", kind="contains", config={"text": "refund"}
    )

    assert response.status_code == 201
    created = response.json()
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == {
        "workflow": "Support",
        "step": "",
        "name": "mentions refund",
        "kind": "contains",
        "config": {"text": "refund", "case_sensitive": False},
        "threshold": 0.5,
        "created_by": "pm",
    }
    tried = try_evaluator(editor, created["id"], output={"reply": "Your refund is on its way."})
    assert tried.status_code == 200
    assert tried.json() == {
        "status": "done",
        "value": 1.0,
        "passed": True,
        "reason": "contains 'refund'",
        "error": "",
        "tokens": None,
        "cost": None,
        "latency_ms": None,
        "run": None,
    }
    listed = editor.get("/api/v1/playground/evaluators", {"workflow": "Support"}).json()
    assert [e["name"] for e in listed["results"]] == ["mentions refund"]


def test_an_evaluator_is_edited_and_deleted(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    evaluator = new_evaluator(api, name="short", kind="length", config={"max": 10}).json()

    edited = api.patch(
        f"/api/v1/playground/evaluators/{evaluator['id']}",
        {"kind": "regex", "config": {"pattern": "^Hi"}, "step": "draft"},
        format="json",
    )

    assert edited.status_code == 200
    assert (edited.json()["kind"], edited.json()["config"], edited.json()["step"]) == (
        "regex",
        {"pattern": "^Hi", "case_sensitive": False},
        "draft",
    )
    assert api.delete(f"/api/v1/playground/evaluators/{evaluator['id']}").status_code == 204
    assert api.get(f"/api/v1/playground/evaluators/{evaluator['id']}").status_code == 404


def invalid(message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": "invalid_request", "message": message, "details": details}}


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (
            {"kind": "contains", "config": {}},
            invalid(
                "config: text: This field is required.",
                {"config": {"text": ["This field is required."]}},
            ),
        ),
        (
            {"kind": "regex", "config": {"pattern": "(unclosed"}},
            invalid(
                "config: pattern: Not a regular expression: missing ), unterminated subpattern "
                "at position 0.",
                {
                    "config": {
                        "pattern": [
                            "Not a regular expression: missing ), unterminated subpattern "
                            "at position 0."
                        ]
                    }
                },
            ),
        ),
        (
            {"kind": "length", "config": {}},
            invalid(
                "config: Give min, max or both (characters).",
                {"config": {"non_field_errors": ["Give min, max or both (characters)."]}},
            ),
        ),
        (
            {"kind": "length", "config": {"min": 10, "max": 5}},
            invalid(
                "config: min (10) is more than max (5).",
                {"config": {"non_field_errors": ["min (10) is more than max (5)."]}},
            ),
        ),
        (
            {"kind": "json_schema", "config": {"schema": {"type": "nothing"}}},
            invalid(
                "config: schema: Not a JSON Schema: 'nothing' is not valid under any of the "
                "given schemas.",
                {
                    "config": {
                        "schema": [
                            "Not a JSON Schema: 'nothing' is not valid under any of the given "
                            "schemas."
                        ]
                    }
                },
            ),
        ),
        (
            {"kind": "latency", "config": {"max_ms": -1}},
            invalid(
                "config: max_ms: Ensure this value is greater than or equal to 0.",
                {"config": {"max_ms": ["Ensure this value is greater than or equal to 0."]}},
            ),
        ),
        (
            {"kind": "llm_judge", "config": {"model": "gpt-4o"}},
            invalid(
                "config: rubric: This field is required.",
                {"config": {"rubric": ["This field is required."]}},
            ),
        ),
        (
            {"kind": "is_json", "config": {"strict": True}},
            invalid(
                "config: Unknown field(s): strict.",
                {"config": {"non_field_errors": ["Unknown field(s): strict."]}},
            ),
        ),
        (
            {"kind": "vibes"},
            invalid(
                'kind: "vibes" is not a valid choice.', {"kind": ['"vibes" is not a valid choice.']}
            ),
        ),
        (
            {"kind": "is_json", "threshold": 2},
            invalid(
                "threshold: Ensure this value is less than or equal to 1.",
                {"threshold": ["Ensure this value is less than or equal to 1."]},
            ),
        ),
        (
            {"kind": "is_json", "step": "summarise"},
            invalid(
                "Support has no step 'summarise' (its steps: classify, draft, review).",
                {"step": "summarise", "steps": ["classify", "draft", "review"]},
            ),
        ),
    ],
)
def test_a_bad_evaluator_is_refused_precisely_and_nothing_is_made(
    api: APIClient, tenant: Tenant, body: dict[str, Any], answer: dict[str, Any]
) -> None:
    register_support(tenant)

    response = new_evaluator(api, name="check", **body)

    assert (response.status_code, response.json()) == (400, answer)
    assert api.get("/api/v1/playground/evaluators").json()["results"] == []


def test_a_second_evaluator_of_the_same_name_is_a_conflict(api: APIClient, tenant: Tenant) -> None:
    register_support(tenant)
    new_evaluator(api, name="json", kind="is_json")

    response = new_evaluator(api, name="json", kind="is_json")

    assert (response.status_code, response.json()) == (
        409,
        {
            "error": {
                "code": "conflict",
                "message": "Support already has an evaluator named 'json'.",
                "details": {"name": "json"},
            }
        },
    )


def test_a_config_edit_is_checked_against_the_evaluators_kind(
    api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    evaluator = new_evaluator(api, name="fast", kind="latency", config={"max_ms": 100}).json()

    response = api.patch(
        f"/api/v1/playground/evaluators/{evaluator['id']}",
        {"config": {"text": "refund"}},
        format="json",
    )

    assert response.json()["error"]["message"] == "config: Unknown field(s): text."


def test_viewers_read_evaluators_and_only_editors_write_them(tenant: Tenant) -> None:
    register_support(tenant)
    editor = member_client(tenant, "editor", username="ed")
    viewer = member_client(tenant, "viewer", username="vi")
    evaluator = new_evaluator(editor, name="json", kind="is_json").json()
    path = f"/api/v1/playground/evaluators/{evaluator['id']}"

    assert viewer.get(path).json()["name"] == "json"
    refused = {
        "error": {
            "code": "permission_denied",
            "message": "This needs the editor role.",
            "details": {},
        }
    }
    for response in [
        new_evaluator(viewer, name="mine", kind="is_json"),
        viewer.patch(path, {"name": "x"}, format="json"),
        viewer.delete(path),
        try_evaluator(viewer, evaluator["id"], output="{}"),
    ]:
        assert (response.status_code, response.json()) == (403, refused)


def test_another_tenants_evaluator_does_not_exist(
    api: APIClient, other_api: APIClient, tenant: Tenant
) -> None:
    register_support(tenant)
    evaluator = new_evaluator(api, name="json", kind="is_json").json()
    path = f"/api/v1/playground/evaluators/{evaluator['id']}"

    tried = try_evaluator(other_api, evaluator["id"], output="{}")

    assert (tried.status_code, tried.json()) == (
        404,
        {
            "error": {
                "code": "not_found",
                "message": "Evaluator not found.",
                "details": {"id": evaluator["id"]},
            }
        },
    )
    assert other_api.get(path).status_code == 404
    assert other_api.get("/api/v1/playground/evaluators").json()["results"] == []


@pytest.fixture
def openai_server(settings: Any) -> Iterator[LoopbackOpenAI]:
    """The loopback Chat Completions API that the judges' client is pointed at."""
    server = LoopbackOpenAI().start()
    settings.OPENAI_API_KEY = API_KEY
    settings.OPENAI_BASE_URL = server.url
    settings.HATCHET_JUDGE_MAX_RETRIES = 2
    yield server
    server.stop()


def judge(api: APIClient, rubric: str = "Polite, and mentions the refund.") -> str:
    body = {"rubric": rubric, "model": "gpt-4o-mini"}
    return str(new_evaluator(api, name="judge", kind="llm_judge", config=body).json()["id"])


TICKET = {"ticket": "Where is my refund?"}
REPLY = {"reply": "Sorry for the wait: your refund is on its way."}


def test_the_judge_asks_the_model_and_keeps_its_tokens_and_cost(
    api: APIClient, tenant: Tenant, openai_server: LoopbackOpenAI
) -> None:
    register_support(tenant)
    answer = '{"score": 0.8, "reason": "Polite; names the refund."}'
    openai_server.answer_with(answer)

    response = try_evaluator(api, judge(api), input=TICKET, output=REPLY, expected="Refunded.")

    [seen] = openai_server.requests
    assert seen.authorization == f"Bearer {API_KEY}"
    assert seen.body["model"] == "gpt-4o-mini"
    assert seen.body["messages"][1] == {
        "role": "user",
        "content": "Rubric:\nPolite, and mentions the refund.\n\n"
        'Input:\n{"ticket": "Where is my refund?"}\n\n'
        "Expected output:\nRefunded.\n\n"
        "Output:\nSorry for the wait: your refund is on its way.",
    }
    usage = usage_of(seen.body, answer)
    verdict = response.json()
    assert verdict["latency_ms"] > 0
    assert {k: v for k, v in verdict.items() if k != "latency_ms"} == {
        "status": "done",
        "value": 0.8,
        "passed": True,
        "reason": "Polite; names the refund.",
        "error": "",
        "tokens": usage["total_tokens"],
        "cost": pytest.approx(
            (usage["prompt_tokens"] * 0.15 + usage["completion_tokens"] * 0.60) / 1_000_000
        ),
        "run": None,
    }


def test_a_rate_limited_judge_waits_as_told_and_answers(
    api: APIClient, tenant: Tenant, openai_server: LoopbackOpenAI
) -> None:
    register_support(tenant)
    openai_server.rate_limit("0.4")
    openai_server.answer_with('{"score": 1, "reason": "Fine."}')

    response = try_evaluator(api, judge(api), input=TICKET, output=REPLY)

    assert (response.json()["status"], response.json()["value"]) == ("done", 1.0)
    first, second = openai_server.requests
    assert second.at - first.at >= 0.4


def test_a_judge_rate_limited_past_its_retries_is_an_error(
    api: APIClient, tenant: Tenant, openai_server: LoopbackOpenAI
) -> None:
    register_support(tenant)
    openai_server.rate_limit("0.01", times=3)

    response = try_evaluator(api, judge(api), input=TICKET, output=REPLY)

    assert len(openai_server.requests) == 3
    verdict = response.json()
    assert (verdict["status"], verdict["value"], verdict["passed"], verdict["error"]) == (
        "error",
        None,
        None,
        "The judge (gpt-4o-mini) did not answer: Error code: 429 - Rate limit reached for "
        "requests. (after 2 retries)",
    )


@pytest.mark.parametrize(
    ("answer", "status", "value", "error"),
    [
        (
            "I'd say it is pretty good.",
            "error",
            None,
            "The judge did not answer JSON {score, reason}: I'd say it is pretty good.",
        ),
        (
            '{"score": 7, "reason": "Great."}',
            "error",
            None,
            "The judge's score 7 is not a number from 0 to 1.",
        ),
        ('```json\n{"score": "0.5", "reason": "Half."}\n```', "done", 0.5, ""),
        ('Here you go: {"score": 0, "reason": "Rude."} Hope it helps.', "done", 0.0, ""),
    ],
)
def test_the_judges_answer_is_read_leniently_and_refused_precisely(
    api: APIClient,
    tenant: Tenant,
    openai_server: LoopbackOpenAI,
    answer: str,
    status: str,
    value: float | None,
    error: str,
) -> None:
    register_support(tenant)
    openai_server.answer_with(answer)

    verdict = try_evaluator(api, judge(api), input=TICKET, output=REPLY).json()

    assert (verdict["status"], verdict["value"], verdict["error"]) == (status, value, error)
    # What a malformed answer cost is kept all the same.
    assert verdict["tokens"] == usage_of(openai_server.requests[0].body, answer)["total_tokens"]


def test_without_a_key_the_offline_judge_scores_by_a_stable_rule(
    api: APIClient, tenant: Tenant, settings: Any
) -> None:
    register_support(tenant)
    settings.OPENAI_API_KEY = ""
    evaluator = judge(api, rubric="Mentions the refund and the order number.")

    verdict = try_evaluator(api, evaluator, output="Your refund for order 42 is on its way.")

    assert {k: v for k, v in verdict.json().items() if k != "latency_ms"} == {
        "status": "done",
        "value": 0.6667,
        "passed": True,
        "reason": "[offline judge] 2 of 3 rubric words in the output: refund, order",
        "error": "",
        "tokens": 0,
        "cost": 0.0,
        "run": None,
    }


def test_the_loopback_server_streams_to_the_real_client(
    openai_server: LoopbackOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    openai_server.answer_with("Thanks for writing in.")

    sent: list[dict[str, Any]] = []
    context = Context(
        {"step_run_id": "sr", "workflow_run_id": "wr", "attempt": 1}, send=sent.append
    )

    tokens = list(openai_reply(context, "gpt-4o-mini", "Be kind.", "Where is my refund?", 0.3))

    assert tokens == ["Thanks", " for", " writing", " in."]
    assert openai_server.requests[0].body["stream"] is True
    # The usage chunk the stream ends with, as stream_options asked.
    assert context._completion_fields()["usage"] == {
        "prompt_tokens": 6,
        "completion_tokens": 4,
        "model": "gpt-4o-mini",
    }


@pytest.fixture
def judge_runner(tmp_path: Path, settings: Any) -> Iterator[None]:
    """Who runs the judges' tasks: in the embedded mode, threads of this process; with
    Redis, as in production, a Celery worker on this test database (judging offline)."""
    settings.OPENAI_API_KEY = ""
    if not settings.REDIS_URL:
        yield
        return
    worker = start_celery_worker(tmp_path / "celery.log", {})
    yield
    stop_process(worker)


def scored_comparison(api: APIClient, **body: Any) -> dict[str, Any]:
    """Support compared over two custom inputs: the baseline, and `review` made strict."""
    response = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}, {"overrides": {"review": {"strict": True}}}],
            "rows": [{"input": {"ticket": "Refund?"}}, {"input": {"ticket": "Down!"}}],
            **body,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def attach_evaluators(api: APIClient) -> dict[str, str]:
    """A check the strict column passes and the baseline fails, one both pass, and
    an offline judge that scores the strict column higher."""
    bodies: list[dict[str, Any]] = [
        {"name": "mentions strict", "kind": "contains", "config": {"text": "strict"}},
        {"name": "short", "kind": "length", "config": {"max": 100}},
        {"name": "judge", "kind": "llm_judge", "config": {"rubric": "Strict review."}},
    ]
    return {body["name"]: new_evaluator(api, **body).json()["id"] for body in bodies}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("source", "judge_runner")
def test_finished_cells_are_scored_and_columns_summed_up_against_the_baseline(
    api: APIClient, tenant: Tenant
) -> None:
    ids = attach_evaluators(api)
    matrix = scored_comparison(api, baseline=1)
    assert [e["name"] for e in matrix["evaluators"]] == ["judge", "mentions strict", "short"]
    assert matrix["baseline"] == 1

    worker = PlaygroundWorker(tenant)
    usage = {"prompt_tokens": 1000, "completion_tokens": 500, "model": "gpt-4o-mini"}
    worker.run_step("classify")
    worker.run_step("draft", usage=usage)
    worker.run_step("review")
    wait_for(lambda: Score.objects.filter(status="done").count() == 12)

    done = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()
    cells = {(c["row"], c["column"]): c for c in done["cells"]}
    assert cells[(0, 0)]["cost"] == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1_000_000)
    assert [
        (s["name"], s["status"], s["value"], s["passed"], s["reason"])
        for s in cells[(0, 0)]["scores"]
    ] == [
        ("judge", "done", 0.5, True, "[offline judge] 1 of 2 rubric words in the output: review"),
        ("mentions strict", "done", 0.0, False, "does not contain 'strict'"),
        ("short", "done", 1.0, True, "30 chars ≤ 100 chars"),
    ]
    assert [(s["name"], s["value"]) for s in cells[(1, 1)]["scores"]] == [
        ("judge", 1.0),
        ("mentions strict", 1.0),
        ("short", 1.0),
    ]
    baseline, strict = done["summary"]
    assert {k: v for k, v in baseline.items() if k not in ("evaluators", "mean_latency_ms")} == {
        "column": 0,
        "is_baseline": False,
        "runs": 2,
        "total_tokens": 3000,
        "total_cost": pytest.approx(2 * (1000 * 0.15 + 500 * 0.60) / 1_000_000),
        "evaluator_cost": 0.0,
        "improved": 0,
        "regressed": 2,
        "unchanged": 0,
    }
    assert baseline["evaluators"][1] == {
        "evaluator": ids["mentions strict"],
        "name": "mentions strict",
        "scored": 2,
        "passed": 0,
        "errored": 0,
        "pending": 0,
        "pass_rate": 0.0,
        "mean_score": 0.0,
    }
    assert (
        strict["is_baseline"],
        strict["improved"],
        strict["regressed"],
        strict["unchanged"],
    ) == (
        True,
        0,
        0,
        2,
    )
    assert [(e["name"], e["pass_rate"], e["mean_score"]) for e in strict["evaluators"]] == [
        ("judge", 1.0, 1.0),
        ("mentions strict", 1.0, 1.0),
        ("short", 1.0, 1.0),
    ]
    # Held against the other column, the same scores read the other way.
    again = api.get(f"/api/v1/playground/compare/{matrix['id']}", {"baseline": 0}).json()
    assert [(c["improved"], c["regressed"], c["unchanged"]) for c in again["summary"]] == [
        (0, 0, 2),
        (2, 0, 0),
    ]


@pytest.mark.usefixtures("source")
def test_a_comparison_takes_the_evaluators_it_names_and_refuses_others(api: APIClient) -> None:
    ids = attach_evaluators(api)

    chosen = scored_comparison(api, evaluators=[ids["short"]])
    unknown = "00000000-0000-0000-0000-000000000000"
    refused = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}],
            "rows": [{"input": {}}],
            "evaluators": [unknown],
            "baseline": 0,
        },
        format="json",
    )
    far = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}],
            "rows": [{"input": {}}],
            "baseline": 3,
        },
        format="json",
    )

    assert [e["name"] for e in chosen["evaluators"]] == ["short"]
    assert chosen["baseline"] == 0
    assert (refused.status_code, refused.json()) == (
        400,
        invalid(f"Support has no evaluator {unknown}.", {"evaluators": [unknown]}),
    )
    assert (far.status_code, far.json()) == (
        400,
        invalid("baseline is column 3, but the columns are 0 to 0.", {"baseline": 3}),
    )
    read_far = api.get(f"/api/v1/playground/compare/{chosen['id']}", {"baseline": 2})
    assert (read_far.status_code, read_far.json()) == (
        400,
        invalid("baseline is column 2, but the columns are 0 to 1.", {"baseline": 2}),
    )


@pytest.mark.usefixtures("source")
def test_a_rescore_scores_every_finished_cell_with_the_evaluators_as_they_are_now(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    evaluator = new_evaluator(api, name="strict", kind="contains", config={"text": "strict"})
    matrix = scored_comparison(api)
    worker = PlaygroundWorker(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        for step in ("classify", "draft", "review"):
            worker.run_step(step)
    assert Counter(Score.objects.values_list("value", flat=True)) == {0.0: 2, 1.0: 2}
    api.patch(
        f"/api/v1/playground/evaluators/{evaluator.json()['id']}",
        {"config": {"text": "review"}},
        format="json",
    )

    response = api.post(f"/api/v1/playground/compare/{matrix['id']}/rescore")

    assert response.status_code == 200
    assert [s["reason"] for c in response.json()["cells"] for s in c["scores"]] == [
        "contains 'review'"
    ] * 4


def test_a_run_that_failed_fails_every_evaluator_with_its_error(
    api: APIClient, tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    register_support(tenant)
    new_evaluator(api, name="json", kind="is_json")
    matrix = scored_comparison(api, columns=[{"baseline": True}], rows=[{"input": {}}])
    worker = PlaygroundWorker(tenant)
    [assignment] = worker.claim("classify")
    with django_capture_on_commit_callbacks(execute=True):
        ref = (tenant.id, assignment.step_run_id, assignment.attempt, worker.id)
        assert record_step_started(*ref)
        record_step_failed(*ref, "KeyError: 'question'", "Traceback", retryable=False)

    [cell] = api.get(f"/api/v1/playground/compare/{matrix['id']}").json()["cells"]
    assert [(s["value"], s["passed"], s["reason"]) for s in cell["scores"]] == [
        (0.0, False, "the run failed: Step 'classify' failed: KeyError: 'question'")
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("source")
def test_scores_and_the_summary_arrive_live_on_the_comparison_socket(
    api: APIClient, tenant: Tenant
) -> None:
    new_evaluator(api, name="strict", kind="contains", config={"text": "strict"})
    matrix = scored_comparison(api, rows=[{"input": {"ticket": "Hi"}}])
    worker = PlaygroundWorker(tenant)
    received: list[dict[str, Any]] = []

    async def watch() -> None:
        socket = await open_socket(tenant, f"/ws/playground/compare/{matrix['id']}")
        received.append(await socket.receive_json_from(timeout=5))
        for step in ("classify", "draft", "review"):
            await database_sync_to_async(worker.run_step)(step)
        # Cells scored close together may share one summary: wait for one that has them all.
        while not any(
            m["type"] == "comparison.summary"
            and all(column["evaluators"][0]["scored"] == 1 for column in m["summary"])
            for m in received
        ):
            received.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()

    async_to_sync(watch)()

    scored = {
        (m["cell"]["column"], tuple(s["value"] for s in m["cell"]["scores"]))
        for m in received
        if m["type"] == "cell" and m["cell"]["scores"]
    }
    assert scored == {(0, (0.0,)), (1, (1.0,))}
    last = [m for m in received if m["type"] == "comparison.summary"][-1]
    assert [s["evaluators"][0]["pass_rate"] for s in last["summary"]] == [0.0, 1.0]
    assert [s["improved"] for s in last["summary"]] == [0, 1]
