"""The worker runtime driven through its connection's message handler, without a server
or a socket."""

import asyncio
import json
import re
import threading
import time

import pytest

from hatchet.sdk import Context, Hatchet, NonRetryableError
from hatchet.sdk.connection import websocket_url
from hatchet.sdk.runner import STARTED_DELAY
from hatchet.sdk.worker import project_root_path

hatchet = Hatchet("http://127.0.0.1:1", token="t")
release = threading.Event()


@hatchet.workflow()
class Demo:
    @hatchet.step()
    def ok(self, context: Context):
        context.playground("prompt", "hi")
        return {"reply": "done"}

    @hatchet.step()
    def nothing(self, _context: Context):
        return None

    @hatchet.step()
    def boom(self, _context: Context):
        raise ValueError("printer on fire")

    @hatchet.step()
    def refuses(self, _context: Context):
        raise NonRetryableError("no such customer")

    @hatchet.step()
    def unserialisable(self, _context: Context):
        return {"tags": {"a", "b"}}

    @hatchet.step()
    def wordy(self, _context: Context):
        return {"text": "x" * 1000}

    @hatchet.step()
    async def sleepy(self, _context: Context):
        await asyncio.sleep(30)

    @hatchet.step()
    def stubborn(self, context: Context):
        context.cancelled.wait(5)
        release.wait(5)
        return "late"


def assignment(step, step_run_id="sr-1", attempt=1, timeout=30.0):
    return {
        "type": "step.assign",
        "step_run_id": step_run_id,
        "workflow_run_id": "wr-1",
        "attempt": attempt,
        "retry_count": attempt - 1,
        "action": f"Demo:{step}",
        "workflow": "Demo",
        "step": step,
        "input": {},
        "parents": {},
        "overrides": {},
        "timeout_seconds": timeout,
        "metadata": {},
    }


CANCEL_SR_1 = {"type": "step.cancel", "step_run_id": "sr-1", "attempt": 1, "reason": "x"}


def sent(connection):
    outbox = connection.outbox
    return [json.loads(outbox.get(message_id)) for message_id in outbox.pending()]


def run_worker(body, max_runs=5):
    """Run `body(connection)` with a worker's connection, on an event loop acting as the
    worker's loop; return the connection."""
    worker = hatchet.worker("test-worker", max_runs=max_runs)
    worker.register_workflow(Demo)
    connection = worker._connection

    async def main():
        connection.steps.run_on(asyncio.get_running_loop())
        await body(connection)

    asyncio.run(main())
    return connection


async def until(predicate, timeout=2.0):
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_a_fast_step_sends_its_result_alone_with_playground():
    async def body(connection):
        connection.handle(assignment("ok"))
        await until(lambda: len(connection.outbox) == 1)
        await asyncio.sleep(STARTED_DELAY * 2)

    [completed] = sent(run_worker(body))
    assert completed["type"] == "step.completed"
    assert completed["output"] == {"reply": "done"}
    assert [record["name"] for record in completed["playground"]] == ["prompt"]


def test_a_step_running_longer_than_a_moment_reports_its_start():
    async def body(connection):
        connection.handle(assignment("sleepy"))
        await until(lambda: len(connection.outbox) == 1)
        connection.steps.runs[("sr-1", 1)].task.cancel()

    before = time.time()
    [started] = sent(run_worker(body))
    assert {k: v for k, v in started.items() if k not in ("id", "started_at")} == {
        "type": "step.started",
        "step_run_id": "sr-1",
        "attempt": 1,
    }
    # When the step began, by the worker's clock.
    assert before <= started["started_at"] <= before + STARTED_DELAY


def test_none_output_is_sent_as_null():
    async def body(connection):
        connection.handle(assignment("nothing"))
        await until(lambda: len(connection.outbox) == 1)

    [completed] = sent(run_worker(body))
    assert completed["type"] == "step.completed"
    assert completed["output"] is None


def test_a_raising_step_fails_retryably_with_its_traceback():
    async def body(connection):
        connection.handle(assignment("boom"))
        await until(lambda: len(connection.outbox) == 1)

    [failed] = sent(run_worker(body))
    assert failed["type"] == "step.failed"
    assert failed["error"] == "ValueError: printer on fire"
    assert failed["retryable"] is True
    assert 'raise ValueError("printer on fire")' in failed["traceback"]
    assert "handed_back" not in failed


def test_a_non_retryable_error_fails_without_retry():
    async def body(connection):
        connection.handle(assignment("refuses"))
        await until(lambda: len(connection.outbox) == 1)

    [failed] = sent(run_worker(body))
    assert (failed["error"], failed["retryable"]) == (
        "NonRetryableError: no such customer",
        False,
    )


def test_an_output_that_is_not_json_fails_without_retry():
    async def body(connection):
        connection.handle(assignment("unserialisable"))
        await until(lambda: len(connection.outbox) == 1)

    [failed] = sent(run_worker(body))
    assert failed["type"] == "step.failed"
    assert failed["error"] == (
        "TypeError: step output is not JSON-serialisable: Object of type set is not JSON "
        "serializable"
    )
    assert failed["retryable"] is False


def test_an_assignment_beyond_the_slots_is_handed_back():
    async def body(connection):
        connection.handle(assignment("sleepy", "sr-1"))
        connection.handle(assignment("sleepy", "sr-2"))
        assert connection.steps.slots_in_use() == 1
        await until(lambda: len(connection.outbox) == 2)
        connection.steps.runs[("sr-1", 1)].task.cancel()

    handed_back, started = sent(run_worker(body, max_runs=1))
    assert (started["type"], started["step_run_id"]) == ("step.started", "sr-1")
    assert {k: v for k, v in handed_back.items() if k != "id"} == {
        "type": "step.failed",
        "step_run_id": "sr-2",
        "attempt": 1,
        "error": "worker has no free slot",
        "traceback": "",
        "retryable": True,
        "handed_back": True,
    }


def test_the_same_assignment_twice_runs_once():
    async def body(connection):
        connection.handle(assignment("sleepy"))
        connection.handle(assignment("sleepy"))
        assert connection.steps.slots_in_use() == 1
        await until(lambda: len(connection.outbox) == 1)
        connection.steps.runs[("sr-1", 1)].task.cancel()

    assert [m["type"] for m in sent(run_worker(body))] == ["step.started"]


def test_local_timeout_cancels_an_async_step_frees_its_slot_and_reports_it():
    async def body(connection):
        connection.handle(assignment("sleepy", timeout=STARTED_DELAY * 4))
        context = connection.steps.runs[("sr-1", 1)].context
        await until(lambda: context.cancelled.is_set())
        # The task takes its cancellation on its next turn of the loop, then frees the slot.
        await until(lambda: connection.steps.slots_in_use() == 0)
        await until(lambda: not connection.steps.runs)

    started, failed = sent(run_worker(body))
    assert started["type"] == "step.started"
    assert (failed["type"], failed["timed_out"], failed["attempt"]) == ("step.failed", True, 1)


def test_a_cancelled_sync_step_keeps_its_slot_until_its_thread_returns():
    """Python cannot stop the thread: the slot stays taken (and the server is told how
    many such slots there are) until the step returns; its late result is still sent."""
    release.clear()

    async def body(connection):
        connection.handle(assignment("stubborn"))
        connection.handle(
            {"type": "step.cancel", "step_run_id": "sr-1", "attempt": 1, "reason": "x"}
        )
        assert connection.steps.runs[("sr-1", 1)].context.cancelled.is_set()
        assert (connection.steps.slots_in_use(), connection.steps.lingering()) == (1, 1)
        connection.handle(assignment("ok", "sr-2"))
        release.set()
        await until(lambda: len(connection.outbox) == 2)
        assert (connection.steps.slots_in_use(), connection.steps.lingering()) == (0, 0)

    handed_back, completed = sent(run_worker(body, max_runs=1))
    assert (handed_back["step_run_id"], handed_back["handed_back"]) == ("sr-2", True)
    assert handed_back["error"] == "worker has no free slot"
    assert (completed["type"], completed["output"]) == ("step.completed", "late")


def test_a_heartbeat_lists_the_running_steps_and_how_many_slots_ended_ones_still_hold():
    """The server stops again a listed step it no longer holds (its first stop order may
    have been lost); one already stopped is not listed, but its slot is counted."""
    release.clear()
    beats: list[dict] = []

    class Socket:
        async def send(self, text):
            beats.append(json.loads(text))

    async def body(connection):
        connection.handle(assignment("stubborn"))
        await connection.send_heartbeat(Socket())
        connection.handle(
            {"type": "step.cancel", "step_run_id": "sr-1", "attempt": 1, "reason": "x"}
        )
        await connection.send_heartbeat(Socket())
        release.set()
        await until(lambda: not connection.steps.runs)
        await connection.send_heartbeat(Socket())

    run_worker(body)
    assert [beat["lingering"] for beat in beats] == [0, 1, 0]
    assert [beat["running"] for beat in beats] == [[{"step_run_id": "sr-1", "attempt": 1}], [], []]


def test_steps_taken_back_by_the_server_send_nothing_more():
    release.clear()

    async def body(connection):
        connection.handle(assignment("stubborn"))
        connection.steps.taken_back()
        assert connection.steps.runs[("sr-1", 1)].context.cancelled.is_set()
        release.set()
        await until(lambda: not connection.steps.runs)

    assert sent(run_worker(body)) == []


def test_refresh_timeout_pushes_the_local_deadline_back():
    async def body(connection):
        connection.handle(assignment("sleepy", timeout=0.1))
        run = connection.steps.runs[("sr-1", 1)]
        run.context.refresh_timeout("1s")
        await asyncio.sleep(0.3)
        assert not run.context.cancelled.is_set()
        run.task.cancel()

    messages = sent(run_worker(body))
    assert [m["type"] for m in messages] == ["step.started", "step.refresh_timeout"]


def test_acks_and_final_errors_empty_the_outbox_but_transient_errors_do_not():
    async def body(connection):
        first = connection.outbox.add({"type": "step.log"})
        second = connection.outbox.add({"type": "step.log"})
        third = connection.outbox.add({"type": "step.log"})
        connection.handle({"type": "ack", "id": first, "applied": False})
        connection.handle({"type": "error", "code": "invalid_field", "message": "m", "id": second})
        connection.handle({"type": "error", "code": "not_registered", "message": "m", "id": third})
        assert connection.outbox.pending() == [third]

    run_worker(body)


def failed_for_its_output(failed, step_run_id, attempt, limit):
    """A step.failed that stands for a step.completed over `limit`: not retryable,
    naming the completed's size (over 1000 bytes: `wordy` returns 1000 x's) and the limit,
    with the step's start."""
    reason = re.fullmatch(
        r"output too large: (\d+) bytes, the server takes at most (\d+)", failed["error"]
    )
    assert reason is not None
    assert int(reason[1]) > 1000
    assert int(reason[2]) == limit
    assert failed["started_at"] > 0  # the step's own start, as the result would have said
    return {k: v for k, v in failed.items() if k not in ("id", "error", "started_at")} == {
        "type": "step.failed",
        "step_run_id": step_run_id,
        "attempt": attempt,
        "traceback": "",
        "retryable": False,
    }


def test_an_output_over_the_server_limit_fails_its_step_without_retry():
    async def body(connection):
        connection.take_limit(500)
        connection.handle(assignment("wordy"))
        await until(lambda: len(connection.outbox) == 1)

    [failed] = sent(run_worker(body))
    assert failed_for_its_output(failed, "sr-1", 1, 500)


def test_a_result_the_server_refuses_as_too_large_is_replaced_by_the_steps_failure():
    async def body(connection):
        connection.take_limit(5000)
        connection.handle(assignment("wordy", "sr-2", attempt=3))
        await until(lambda: len(connection.outbox) == 1)
        [completed] = connection.outbox.pending()
        connection.handle(
            {"type": "error", "code": "message_too_large", "message": "m", "id": completed}
        )

    [failed] = sent(run_worker(body))
    assert failed_for_its_output(failed, "sr-2", 3, 5000)


def test_a_line_the_server_refuses_as_too_large_is_dropped_with_a_warning(caplog):
    async def body(connection):
        line = connection.outbox.add(
            {"type": "step.log", "step_run_id": "sr-1", "attempt": 1, "message": "x" * 300}
        )
        connection.take_limit(5000)
        connection.handle(
            {"type": "error", "code": "message_too_large", "message": "m", "id": line}
        )

    assert sent(run_worker(body)) == []
    assert "dropped a step.log of step run sr-1: 405 bytes, the server takes at most 5000" in (
        caplog.text
    )


def test_what_was_kept_under_a_higher_limit_is_not_sent_under_a_lower_one():
    async def body(connection):
        connection.take_limit(5000)
        started = connection.outbox.add(
            {"type": "step.started", "step_run_id": "sr-1", "attempt": 1}
        )
        connection.handle(assignment("wordy", "sr-2"))
        await until(lambda: len(connection.outbox) == 2)
        connection.outbox.add({"type": "step.stream", "step_run_id": "sr-3", "chunk": "y" * 600})
        connection.take_limit(500)  # registered again, with a server that takes less
        assert connection.outbox.pending()[0] == started

    started, failed = sent(run_worker(body))
    assert started["type"] == "step.started"
    assert failed_for_its_output(failed, "sr-2", 1, 500)


@pytest.mark.parametrize(
    ("server_url", "expected_url"),
    [
        ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws/worker"),
        ("https://hatchet.example.com/", "wss://hatchet.example.com/ws/worker"),
        ("https://example.com/hatchet", "wss://example.com/hatchet/ws/worker"),
    ],
)
def test_websocket_url_is_derived_from_the_server_url(server_url, expected_url):
    assert websocket_url(server_url) == expected_url


def test_worker_arguments_are_checked():
    with pytest.raises(ValueError, match="max_runs must be an integer >= 1"):
        hatchet.worker("w", max_runs=0)
    with pytest.raises(RuntimeError, match="register at least one workflow"):
        hatchet.worker("w").start()
    worker = hatchet.worker("w")
    worker.register_workflow(Demo())
    with pytest.raises(ValueError, match="workflow 'Demo' is already registered"):
        worker.register_workflow(Demo())


def test_project_root_is_the_argument_else_the_environment_else_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HATCHET_PROJECT_ROOT", raising=False)
    assert project_root_path(None) == tmp_path.resolve()
    monkeypatch.setenv("HATCHET_PROJECT_ROOT", str(tmp_path / "env"))
    assert project_root_path(None) == (tmp_path / "env").resolve()
    assert project_root_path(tmp_path / "arg") == (tmp_path / "arg").resolve()


def test_worker_labels_are_text_numbers_or_booleans():
    worker = hatchet.worker("labelled", labels={"gpu": True, "memory_gb": 32, "region": "eu"})
    worker.upsert_labels({"memory_gb": 64, "zone": 1.5})

    assert worker.labels == {"gpu": True, "memory_gb": 64, "region": "eu", "zone": 1.5}
    with pytest.raises(TypeError, match="label 'gpu': a value is text, a number"):
        hatchet.worker("bad", labels={"gpu": [1]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="at most 20 labels"):
        worker.upsert_labels({f"l{i}": i for i in range(20)})
    assert worker.labels["memory_gb"] == 64
