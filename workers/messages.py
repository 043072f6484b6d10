"""The messages a worker sends and the fields each needs (docs/protocol.md)."""

from typing import Any
from uuid import UUID

from hatchet.messages import ANY

STEP_FIELDS: dict[str, Any] = {"id": str, "step_run_id": UUID, "attempt": int}
WORKER_MESSAGES: dict[str, dict[str, Any]] = {
    "register": {"name": str, "actions": list, "slots": int},
    "heartbeat": {},
    "labels": {"labels": dict},
    "step.started": STEP_FIELDS,
    "step.completed": {**STEP_FIELDS, "output": ANY},
    "step.failed": {**STEP_FIELDS, "error": str},
    "step.log": {**STEP_FIELDS, "seq": int, "message": str},
    "step.stream": {**STEP_FIELDS, "seq": int, "chunk": str},
    "step.refresh_timeout": {**STEP_FIELDS, "increment": str},
    # Requests of a running step, each answered by an ack that carries a `result`.
    "step.spawn": {**STEP_FIELDS, "children": list},
    "step.wait": {**STEP_FIELDS, "ordinal": int, "kind": str, "spec": dict},
    "step.children": {**STEP_FIELDS, "runs": list},
}
REQUEST_TYPES = frozenset({"step.spawn", "step.wait", "step.children"})
# Reports whose unstorable text is answered by the engine (a refused result fails its
# step run), not by a protocol error the worker would only drop.
REPORT_TYPES = frozenset(
    t for t in WORKER_MESSAGES if t.startswith("step.") and t not in REQUEST_TYPES
)
