"""What each step execution leaves behind: a JSON line when it starts and one when it
ends, in a file per worker process. The audit counts executions per step run from them
and tells why a step ran twice (its worker was killed, it overran its timeout).

Lines are written unbuffered, one write each, so a SIGKILL loses at most the line being
written; a torn last line is skipped when read.
"""

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

STARTED = "started"
# How an execution ended: the step returned, raised, or was cancelled (async steps).
RETURNED = "returned"
RAISED = "raised"
CANCELLED = "cancelled"


@dataclass
class Execution:
    """One execution of a step run by a worker process."""

    execution_id: str
    workflow_run_id: str
    step_run_id: str
    workflow: str
    step: str
    attempt: int
    retry_count: int
    pid: int
    worker: str
    started_at: float
    ended_at: float | None = None
    outcome: str | None = None

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


class ExecutionLog:
    """The writer a worker process keeps: `<directory>/<pid>.jsonl`."""

    def __init__(self, directory: Path, worker: str) -> None:
        self.worker = worker
        self._file: TextIO = open(directory / f"{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115 - open for the process's life
        self._lock = threading.Lock()

    def started(self, fields: dict[str, Any]) -> str:
        """Record a start (`fields`: the Execution's identifying fields); its id."""
        execution_id = uuid.uuid4().hex
        self._write(
            {
                "event": STARTED,
                "execution_id": execution_id,
                "pid": os.getpid(),
                "worker": self.worker,
                "at": time.time(),
                **fields,
            }
        )
        return execution_id

    def ended(self, execution_id: str, outcome: str) -> None:
        self._write({"event": outcome, "execution_id": execution_id, "at": time.time()})

    def _write(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(record) + "\n")


def read_executions(directory: Path) -> list[Execution]:
    """Every execution recorded under `directory`, by start time."""
    executions: dict[str, Execution] = {}
    ends: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # torn by a SIGKILL mid-write
            if record["event"] == STARTED:
                executions[record["execution_id"]] = Execution(
                    execution_id=record["execution_id"],
                    workflow_run_id=record["workflow_run_id"],
                    step_run_id=record["step_run_id"],
                    workflow=record["workflow"],
                    step=record["step"],
                    attempt=int(record["attempt"]),
                    retry_count=int(record["retry_count"]),
                    pid=int(record["pid"]),
                    worker=record["worker"],
                    started_at=float(record["at"]),
                )
            else:
                ends.append(record)
    for record in ends:
        execution = executions.get(record["execution_id"])
        if execution is not None:
            execution.ended_at = float(record["at"])
            execution.outcome = record["event"]
    return sorted(executions.values(), key=lambda e: e.started_at)
