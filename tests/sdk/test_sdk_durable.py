"""A step's requests as the SDK makes them: spawns numbered when they name no key, a
durable step's waits answered from the assignment's record and checked against it, a
wait not over that lets the function go, and children's outcomes turned into outputs
or ChildWorkflowFailed."""

import asyncio
import threading
from typing import Any

import pytest

from hatchet.sdk import ChildWorkflowFailed, Context, NonDeterministicError, Spawn, WaitTimedOut
from hatchet.sdk.durable import Suspended


class Server:
    """Answers a step's requests as the worker socket would, and keeps them."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(message)
        return self.answers.pop(0)


def context_on(loop: asyncio.AbstractEventLoop, server: Server, **assignment: Any) -> Context:
    return Context(
        {
            "step_run_id": "sr-1",
            "workflow_run_id": "wr-1",
            "attempt": 1,
            "step": "fan",
            **assignment,
        },
        send=lambda _message: None,
        request=server,
        loop=loop,
        on_loop=lambda: asyncio._get_running_loop() is loop,
    )


@pytest.fixture
def loop() -> Any:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def test_spawns_are_numbered_when_they_name_no_key(loop: Any) -> None:
    server = Server({"runs": ["r-1", "r-2"]}, {"runs": ["r-3"]})
    context = context_on(loop, server)

    first, second = context.spawn_workflows(
        [("Child", {"n": 1}), Spawn("Child", {"n": 2}, additional_metadata={"k": "v"})]
    )
    third = context.spawn_workflow("Other", key="mine")

    assert [run.workflow_run_id for run in (first, second, third)] == ["r-1", "r-2", "r-3"]
    assert server.requests[0] == {
        "type": "step.spawn",
        "children": [
            {"workflow": "Child", "input": {"n": 1}, "key": "#0"},
            {
                "workflow": "Child",
                "input": {"n": 2},
                "key": "#1",
                "additional_metadata": {"k": "v"},
            },
        ],
    }
    assert server.requests[1]["children"] == [{"workflow": "Other", "input": None, "key": "mine"}]


def test_a_step_that_is_not_durable_may_not_wait(loop: Any) -> None:
    context = context_on(loop, Server())
    with pytest.raises(RuntimeError, match="step 'fan' is not durable"):
        context.sleep_for("1s")


def test_a_recorded_wait_returns_its_result_and_a_changed_one_is_refused(loop: Any) -> None:
    recorded = [
        {"ordinal": 0, "kind": "sleep", "spec": {"seconds": 30.0}, "result": {"slept": 30.0}},
        {
            "ordinal": 1,
            "kind": "event",
            "spec": {"key": "ok", "filter": {}, "lookback": 0.0, "timeout": 5.0},
            "result": {"timed_out": True},
        },
    ]
    server = Server()
    context = context_on(loop, server, durable=True, waits=recorded)

    context.sleep_for("30s")
    with pytest.raises(WaitTimedOut, match="no event 'ok' came within 5s"):
        context.wait_for_event("ok", timeout=5)
    assert server.requests == []

    replayed = context_on(loop, server, durable=True, waits=recorded)
    with pytest.raises(NonDeterministicError, match="its wait #1 was sleep"):
        replayed.sleep_for("31s")


def test_a_wait_not_over_lets_the_function_go(loop: Any) -> None:
    server = Server({"state": "waiting"})
    context = context_on(loop, server, durable=True)
    with pytest.raises(Suspended):
        context.wait_for_event("approved", {"ticket.id": 4}, lookback="5m")
    assert server.requests == [
        {
            "type": "step.wait",
            "ordinal": 0,
            "kind": "event",
            "spec": {
                "key": "approved",
                "filter": {"ticket.id": 4},
                "lookback": 300.0,
                "timeout": None,
            },
        }
    ]


def test_children_outcomes_become_outputs_or_failures(loop: Any) -> None:
    outcomes = {
        "r-1": {"status": "SUCCEEDED", "output": {"work": 1}, "error": ""},
        "r-2": {"status": "FAILED", "error": "Step 'work' failed: boom"},
    }
    server = Server(
        {"runs": ["r-1", "r-2"]},
        {"runs": {"r-1": outcomes["r-1"]}},
        {"runs": {"r-2": outcomes["r-2"]}},
    )
    context = context_on(loop, server)
    good, bad = context.spawn_workflows([("Child", {}), ("Child", {})])

    results = context.wait_for_children([good, bad], return_exceptions=True)

    assert results[0] == {"work": 1}
    assert isinstance(results[1], ChildWorkflowFailed)
    assert results[1].error == "Step 'work' failed: boom"
    # Asked again only for the child still running.
    assert server.requests[2] == {"type": "step.children", "runs": ["r-2"]}


def test_an_async_step_must_await_the_aio_forms(loop: Any) -> None:
    context = context_on(loop, Server({"runs": ["r-1"]}))

    async def in_the_loop() -> None:
        with pytest.raises(RuntimeError, match=r"await context\.aio_spawn_workflows"):
            context.spawn_workflows([("Child", {})])
        [child] = await context.aio_spawn_workflows([("Child", {})])
        assert child.workflow_run_id == "r-1"

    asyncio.run_coroutine_threadsafe(in_the_loop(), loop).result(timeout=5)


def test_a_wait_for_children_times_out(loop: Any) -> None:
    server = Server({"runs": ["r-1"]}, *[{"runs": {}}] * 50)
    context = context_on(loop, server)
    [child] = context.spawn_workflows([("Child", {})])
    with pytest.raises(WaitTimedOut, match=r"had not all finished after 0\.2s"):
        context.wait_for_children([child], timeout=0.2)

    recorded = [
        {
            "ordinal": 0,
            "kind": "children",
            "spec": {"runs": ["r-1"], "timeout": 60.0},
            "result": {"timed_out": True},
        },
    ]
    durable = context_on(loop, Server({"runs": ["r-1"]}), durable=True, waits=recorded)
    [child] = durable.spawn_workflows([("Child", {})])
    with pytest.raises(WaitTimedOut):
        durable.wait_for_children([child], timeout="1m")
