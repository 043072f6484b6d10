import json
import math

import pytest

from hatchet.sdk import Context
from hatchet.sdk.outbox import MessageTooLarge, Outbox


def decoded(outbox):
    return [json.loads(outbox.get(message_id) or "") for message_id in outbox.pending()]


def test_messages_get_unique_ids_and_stay_until_acked():
    outbox = Outbox()
    first = outbox.add({"type": "step.started", "step_run_id": "a", "attempt": 1})
    second = outbox.add({"type": "step.started", "step_run_id": "b", "attempt": 1})
    assert first != second
    assert len(first) == 32
    assert json.loads(outbox.get(first) or "") == {
        "type": "step.started",
        "step_run_id": "a",
        "attempt": 1,
        "id": first,
    }
    assert outbox.ack(first) is True
    assert outbox.ack(first) is False
    assert outbox.ack("never-sent") is False
    assert outbox.pending() == [second]
    assert first not in outbox
    assert second in outbox


def test_resend_after_reconnect_keeps_the_original_order():
    outbox = Outbox()
    ids = [outbox.add({"type": "step.log", "seq": seq}) for seq in range(4)]
    sent_before_the_drop = outbox.pending()
    outbox.ack(ids[1])  # the only ack that arrived before the connection dropped
    later = outbox.add({"type": "step.completed", "output": None})
    assert sent_before_the_drop == ids
    assert outbox.pending() == [ids[0], ids[2], ids[3], later]
    assert [m.get("seq") for m in decoded(outbox)] == [0, 2, 3, None]


def test_context_messages_are_numbered_per_step_run_attempt():
    outbox = Outbox()
    first = Context({"step_run_id": "sr-1", "workflow_run_id": "wr", "attempt": 1}, send=outbox.add)
    retry = Context({"step_run_id": "sr-1", "workflow_run_id": "wr", "attempt": 2}, send=outbox.add)
    first.log("one")
    first.put_stream("a")
    retry.log("again")
    first.log("two")
    assert [(m["attempt"], m["seq"]) for m in decoded(outbox)] == [(1, 0), (1, 1), (2, 0), (1, 2)]


def test_non_json_messages_are_refused_at_the_source():
    outbox = Outbox()
    with pytest.raises(TypeError, match="not JSON serializable"):
        outbox.add({"type": "step.completed", "output": {1, 2}})
    with pytest.raises(ValueError, match="Out of range float"):
        outbox.add({"type": "step.completed", "output": math.nan})
    assert len(outbox) == 0


def test_messages_over_the_server_limit_are_refused():
    outbox = Outbox(max_message_bytes=200)
    outbox.add({"type": "step.stream", "chunk": "x" * 100})
    with pytest.raises(
        MessageTooLarge, match=r"step\.stream is \d+ bytes, over the server's limit of 200 bytes"
    ):
        outbox.add({"type": "step.stream", "chunk": "é" * 100})
    assert len(outbox) == 1


def test_a_lower_limit_takes_out_what_is_over_it_and_keeps_the_order():
    outbox = Outbox()
    small = outbox.add({"type": "step.started", "step_run_id": "a", "attempt": 1})
    large = outbox.add(
        {"type": "step.completed", "step_run_id": "a", "attempt": 2, "output": "x" * 300}
    )
    later = outbox.add({"type": "step.log", "step_run_id": "b", "attempt": 1, "message": "m"})
    [taken] = outbox.set_limit(200)
    assert (taken.type, taken.step_run_id, taken.attempt) == ("step.completed", "a", 2)
    assert taken.size == len(taken.text.encode()) > 200
    assert json.loads(taken.text)["id"] == large
    assert outbox.pending() == [small, later]
    assert outbox.max_message_bytes == 200
