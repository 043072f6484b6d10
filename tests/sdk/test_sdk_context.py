import sys
from pathlib import Path

import pytest

from hatchet.sdk import Context, StepOutputNotFound

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def make_context(sent, project_root=PROJECT_ROOT, **assignment):
    return Context(
        {
            "step_run_id": "sr-1",
            "workflow_run_id": "wr-1",
            "attempt": 2,
            "retry_count": 1,
            "workflow": "SupportReply",
            "step": "review",
            "input": {"ticket": "printer on fire"},
            "parents": {"draft": {"reply": "Sorry!"}},
            "overrides": {},
            "metadata": {"customer": "acme"},
            "timeout_seconds": 30.0,
            **assignment,
        },
        send=sent.append,
        project_root=project_root,
    )


def test_exposes_the_assignment():
    context = make_context([])
    assert (context.step_run_id, context.workflow_run_id) == ("sr-1", "wr-1")
    assert (context.attempt, context.retry_count) == (2, 1)
    assert context.workflow_input() == {"ticket": "printer on fire"}
    assert context.step_output("draft") == {"reply": "Sorry!"}
    assert context.additional_metadata() == {"customer": "acme"}


def test_step_output_of_a_non_parent_names_the_parents():
    context = make_context([])
    with pytest.raises(StepOutputNotFound) as caught:
        context.step_output("classify")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "step 'classify' is not a parent of step 'review' (its parents: draft); "
        "declare it in @step(parents=[...])"
    )


def test_playground_returns_the_override_and_records_it():
    context = make_context([], overrides={"system_prompt": "Be brief."})
    value, line = context.playground("system_prompt", "Be kind."), sys._getframe().f_lineno
    assert value == "Be brief."
    assert context._completion_fields()["playground"] == [
        {
            "name": "system_prompt",
            "default": "Be kind.",
            "value": "Be brief.",
            "type": "string",
            "call_site": {
                "path": "tests/sdk/test_sdk_context.py",
                "line": line,
                "function": "test_playground_returns_the_override_and_records_it",
            },
        }
    ]


def test_playground_without_override_returns_the_default():
    context = make_context([], overrides={"other": 1})
    assert context.playground("temperature", 0.3) == 0.3
    [record] = context._completion_fields()["playground"]
    assert (record["default"], record["value"], record["type"]) == (0.3, 0.3, "number")


@pytest.mark.parametrize(
    ("default", "json_type"),
    [
        ("text", "string"),
        (3, "integer"),
        (0.5, "number"),
        (True, "boolean"),
        (False, "boolean"),
        (["a", 1], "array"),
        ({"k": [1, 2]}, "object"),
    ],
)
def test_playground_type_names(default, json_type):
    context = make_context([])
    context.playground("v", default)
    assert context._completion_fields()["playground"][0]["type"] == json_type


@pytest.mark.parametrize("default", [None, (1, 2), {1, 2}, b"bytes", object()])
def test_playground_rejects_other_defaults(default):
    with pytest.raises(TypeError, match="a playground default must be"):
        make_context([]).playground("v", default)


def test_playground_rejects_defaults_that_are_not_json():
    with pytest.raises(TypeError, match="not JSON serializable"):
        make_context([]).playground("v", {"when": object()})


def test_playground_records_a_name_once_with_its_first_call_site():
    context = make_context([])
    first_line = sys._getframe().f_lineno + 1
    context.playground("prompt", "a")
    context.playground("prompt", "a")
    [record] = context._completion_fields()["playground"]
    assert record["call_site"]["line"] == first_line


def test_playground_snapshots_mutable_defaults():
    context = make_context([])
    tools = ["search"]
    assert context.playground("tools", tools) is tools
    tools.append("browse")
    assert context._completion_fields()["playground"][0]["default"] == ["search"]


def test_call_site_outside_the_project_root_is_absolute(tmp_path):
    context = make_context([], project_root=tmp_path)
    context.playground("v", 1)
    path = context._completion_fields()["playground"][0]["call_site"]["path"]
    assert path == Path(__file__).resolve().as_posix()


def test_call_site_of_a_step_in_a_nested_module(tmp_path):
    package = tmp_path / "app" / "flows"
    package.mkdir(parents=True)
    source = package / "support.py"
    source.write_text("def draft(context):\n    return context.playground('prompt', 'hi')\n")
    namespace: dict = {}
    exec(compile(source.read_text(), str(source), "exec"), namespace)  # noqa: S102 (a file the test wrote)
    context = make_context([], project_root=tmp_path)
    assert namespace["draft"](context) == "hi"
    assert context._completion_fields()["playground"][0]["call_site"] == {
        "path": "app/flows/support.py",
        "line": 2,
        "function": "draft",
    }


def test_logs_and_streams_share_one_seq_counter():
    sent: list = []
    context = make_context(sent)
    context.log("starting")
    context.put_stream("Hel")
    context.put_stream("lo")
    context.log("done", level="warning")
    assert [(m["type"], m["seq"]) for m in sent] == [
        ("step.log", 0),
        ("step.stream", 1),
        ("step.stream", 2),
        ("step.log", 3),
    ]
    assert sent[1] == {
        "type": "step.stream",
        "step_run_id": "sr-1",
        "attempt": 2,
        "seq": 1,
        "chunk": "Hel",
    }
    assert {k: v for k, v in sent[3].items() if k != "at"} == {
        "type": "step.log",
        "step_run_id": "sr-1",
        "attempt": 2,
        "seq": 3,
        "message": "done",
        "level": "warning",
    }


def test_log_and_stream_validate_their_arguments():
    context = make_context([])
    with pytest.raises(ValueError, match="log level must be one of"):
        context.log("x", level="loud")
    with pytest.raises(TypeError, match="put_stream takes a str chunk"):
        context.put_stream(b"x")


def test_refresh_timeout_sends_the_increment_and_extends_locally():
    sent: list = []
    extended: list = []
    context = Context(
        {"step_run_id": "sr-1", "workflow_run_id": "wr-1", "attempt": 1},
        send=sent.append,
        on_refresh_timeout=extended.append,
    )
    context.refresh_timeout("30s")
    assert sent == [
        {"type": "step.refresh_timeout", "step_run_id": "sr-1", "attempt": 1, "increment": "30s"}
    ]
    assert extended == [30.0]
    with pytest.raises(ValueError, match="invalid duration"):
        context.refresh_timeout("30")


def test_usage_adds_up():
    context = make_context([])
    assert "usage" not in context._completion_fields()
    context.usage(prompt_tokens=10, completion_tokens=5, model="gpt-4o-mini")
    context.usage(prompt_tokens=1)
    assert context._completion_fields()["usage"] == {
        "prompt_tokens": 11,
        "completion_tokens": 5,
        "model": "gpt-4o-mini",
    }
    with pytest.raises(ValueError, match="prompt_tokens must be a non-negative integer"):
        context.usage(prompt_tokens=-1)


def test_cancelled_flag_and_done():
    context = make_context([])
    assert not context.cancelled
    assert not context.done()
    context.cancelled.set()
    assert context.cancelled
    assert context.cancelled.is_set()
    assert context.done()
    finished = make_context([])
    finished._mark_finished()
    assert finished.done()
    assert not finished.cancelled
