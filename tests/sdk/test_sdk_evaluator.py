"""Code evaluators in the SDK: the declaration, the definition a worker registers, the
shapes of an answer, and the evaluator's step run by the worker runtime (driven through
its connection's message handler, as in test_sdk_worker.py)."""

import asyncio
import json
from dataclasses import dataclass

import pytest

from hatchet.sdk import Context, Evaluation, Hatchet
from hatchet.sdk.evaluator import evaluator_spec_of, scored

hatchet = Hatchet("http://127.0.0.1:1", token="t")


@hatchet.workflow()
class Reply:
    @hatchet.step()
    def draft(self, _context: Context) -> dict:
        return {"reply": "hi"}


@hatchet.evaluator("polite", workflow=Reply, step="draft", timeout="20s", retries=1)
def polite(_input, output, _expected):
    return (1.0, "says please") if "please" in output["reply"] else (0.0, "no please")


@hatchet.evaluator("exact", workflow="Reply")
async def exact(_input, output, expected, metadata):
    await asyncio.sleep(0)
    return {"score": output == expected, "reason": f"cell {metadata['cell']}"}


@dataclass
class Graded:
    score: float
    reason: str


def test_the_decorator_keeps_the_function_and_records_what_it_scores():
    assert polite(None, {"reply": "please wait"}, None) == (1.0, "says please")
    spec = evaluator_spec_of(polite)
    assert spec.workflow_name == "Reply.evaluate.polite"
    assert spec.to_definition("reply-worker") == {
        "name": "Reply.evaluate.polite",
        "description": f"Code evaluator 'polite' of Reply ({__name__}.polite)",
        "version": "",
        "on_events": [],
        "on_crons": [],
        "steps": [{"name": "evaluate", "parents": [], "retries": 1, "timeout": "20s"}],
        "evaluator": {
            "name": "polite",
            "workflow": "Reply",
            "step": "draft",
            "function": f"{__name__}.polite",
            "worker": "reply-worker",
        },
    }
    assert evaluator_spec_of(exact).step == ""


def test_a_bad_declaration_is_refused_when_the_module_loads():
    with pytest.raises(ValueError, match="invalid evaluator name 'not ok'"):
        hatchet.evaluator("not ok", workflow="Reply")
    with pytest.raises(ValueError, match="longer than 200 characters"):
        hatchet.evaluator("x" * 100, workflow="W" * 100)
    with pytest.raises(TypeError, match=r"must take \(input, output, expected\)"):
        hatchet.evaluator("short", workflow="Reply")(lambda _output: 1.0)
    with pytest.raises(TypeError, match="Context is not a workflow"):
        hatchet.evaluator("e", workflow=Context)
    with pytest.raises(TypeError, match="is not an evaluator"):
        hatchet.worker("w").register_evaluator(lambda _i, _o, _e: 1.0)


@pytest.mark.parametrize(
    ("answer", "sent"),
    [
        (0.25, {"score": 0.25, "reason": ""}),
        (1, {"score": 1, "reason": ""}),
        (True, {"score": 1.0, "reason": ""}),
        (False, {"score": 0.0, "reason": ""}),
        ((0.5, "half right"), {"score": 0.5, "reason": "half right"}),
        ({"score": True, "reason": None}, {"score": 1.0, "reason": ""}),
        (Evaluation(0.9, "close"), {"score": 0.9, "reason": "close"}),
        (Graded(0.1, "far"), {"score": 0.1, "reason": "far"}),
        # Sent as they are: the server names a score out of range or of the wrong type.
        (1.7, {"score": 1.7, "reason": ""}),
        ({"score": "high"}, {"score": "high", "reason": ""}),
        (float("nan"), {"score": "nan", "reason": ""}),
    ],
)
def test_each_shape_of_answer_becomes_score_and_reason(answer, sent):
    assert scored("e", answer) == sent
    json.dumps(sent, allow_nan=False)


@pytest.mark.parametrize("answer", [None, "good", [1, 2, 3], {"value": 1}])
def test_an_answer_that_is_no_score_is_refused_naming_it(answer):
    with pytest.raises(TypeError, match=rf"evaluator 'e' returned {answer!r}".replace("[", r"\[")):
        scored("e", answer)


def assignment(action, data, step_run_id):
    return {
        "type": "step.assign",
        "step_run_id": step_run_id,
        "workflow_run_id": "wr-1",
        "attempt": 1,
        "retry_count": 0,
        "action": action,
        "workflow": action.split(":")[0],
        "step": "evaluate",
        "input": data,
        "parents": {},
        "overrides": {},
        "timeout_seconds": 30.0,
        "metadata": {},
    }


def test_the_worker_runs_sync_and_async_evaluators_as_steps():
    worker = hatchet.worker("evaluators", max_runs=2)
    worker.register_workflow(Reply)
    worker.register_evaluator(polite)
    worker.register_evaluator(exact)
    with pytest.raises(ValueError, match=r"'Reply\.evaluate\.polite' is already registered"):
        worker.register_evaluator(polite)
    connection = worker._connection

    async def main():
        connection.steps.run_on(asyncio.get_running_loop())
        connection.handle(
            assignment(
                "Reply.evaluate.polite:evaluate",
                {"input": {}, "output": {"reply": "please hold"}, "expected": None},
                "sr-1",
            )
        )
        connection.handle(
            assignment(
                "Reply.evaluate.exact:evaluate",
                {"input": {}, "output": "a", "expected": "a", "metadata": {"cell": "c-1"}},
                "sr-2",
            )
        )
        for _ in range(200):
            if len(connection.outbox) == 2:
                return
            await asyncio.sleep(0.01)

    asyncio.run(main())
    outbox = connection.outbox
    results = {
        message["step_run_id"]: (message["type"], message.get("output"))
        for message in (json.loads(str(outbox.get(i))) for i in outbox.pending())
    }
    assert results == {
        "sr-1": ("step.completed", {"score": 1.0, "reason": "says please"}),
        "sr-2": ("step.completed", {"score": 1.0, "reason": "cell c-1"}),
    }


def test_the_examples_evaluator_scores_a_longer_reply_lower():
    from examples.support_reply import concise

    assert concise({}, {"reply": "word " * 20}, None) == Evaluation(1.0, "20 words (aim: 40)")
    assert concise({}, {"reply": "word " * 80}, None) == Evaluation(0.5, "80 words (aim: 40)")
    assert concise({}, {"reply": ""}, None) == Evaluation(0.0, "the reply is empty")
    assert evaluator_spec_of(concise).to_definition("support-worker")["evaluator"] == {
        "name": "concise",
        "workflow": "SupportReply",
        "step": "draft",
        "function": "examples.support_reply.concise",
        "worker": "support-worker",
    }
