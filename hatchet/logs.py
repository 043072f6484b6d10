"""Logs a machine reads: with HATCHET_LOG_FORMAT=json each record is one JSON object
per line, carrying the ids of what it is about (tenant, worker, workflow run, step run)
from the record's `extra` or from the `log_context` it was logged in."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

IDS = ("tenant_id", "worker_id", "workflow_run_id", "step_run_id", "attempt", "action")

_context: ContextVar[dict[str, Any]] = ContextVar("hatchet_log_context", default={})  # noqa: B039 (never mutated)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Records logged inside carry these ids (besides those of an outer context)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the current log context's ids on each record that does not name its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in IDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value if isinstance(value, int) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
