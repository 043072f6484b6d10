"""JSON logs (HATCHET_LOG_FORMAT=json): one object per line, with the ids of the tenant,
worker, run and step run each record is about."""

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hatchet.logs import ContextFilter, JSONFormatter, log_context
from hatchet.models import Tenant
from tests.factories import ScriptedWorker, register, start_run


@contextmanager
def logged_as_json(name: str, level: int) -> Iterator[io.StringIO]:
    """What logger `name` writes at `level`, as the json formatter and the context filter
    write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(ContextFilter())
    log = logging.getLogger(name)
    log.addHandler(handler)
    previous = log.level
    log.setLevel(level)
    try:
        yield stream
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """The engine's log."""
    with logged_as_json("workflows.metrics", logging.INFO) as stream:
        yield stream


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db(transaction=True)
def test_a_failed_step_run_logs_a_line_with_its_ids_once_committed(
    tenant: Tenant, json_lines: io.StringIO
) -> None:
    register(tenant, steps=[{"name": "a", "parents": []}])
    run = start_run(tenant)
    worker = ScriptedWorker(tenant)

    with log_context(worker_id=worker.id):
        step_run = worker.fail("Chain:a", "boom\nmore detail")

    step_line, run_line = entries(json_lines)
    assert step_line == {
        "time": step_line["time"],
        "level": "INFO",
        "logger": "workflows.metrics",
        "message": "step run FAILED: boom",
        "tenant_id": str(tenant.id),
        "worker_id": str(worker.id),
        "workflow_run_id": str(run.id),
        "step_run_id": str(step_run.id),
        "attempt": 1,
        "action": "Chain:a",
    }
    assert run_line["message"].startswith("workflow run FAILED")
    assert run_line["workflow_run_id"] == str(run.id)
    assert "step_run_id" not in run_line


@pytest.mark.django_db(transaction=True)
def test_a_succeeded_step_run_logs_only_at_debug(tenant: Tenant, json_lines: io.StringIO) -> None:
    register(tenant, steps=[{"name": "a", "parents": []}])
    start_run(tenant)

    ScriptedWorker(tenant).complete("Chain:a", {"ok": True})

    assert entries(json_lines) == []


def test_a_record_names_its_own_ids_over_the_context_and_keeps_its_exception() -> None:
    log = logging.getLogger("tests.logs")
    with logged_as_json("tests.logs", logging.INFO) as stream:
        with log_context(worker_id="w-1", step_run_id="outer"), log_context(step_run_id="inner"):
            try:
                raise ValueError("bad")
            except ValueError:
                log.exception("failed", extra={"workflow_run_id": "r-1"})
        log.warning("outside")

    inside, outside = entries(stream)
    assert inside["worker_id"] == "w-1"
    assert inside["step_run_id"] == "inner"
    assert inside["workflow_run_id"] == "r-1"
    assert "ValueError: bad" in inside["exception"]
    assert set(outside) == {"time", "level", "logger", "message"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_setting_switches_every_process_log_to_json() -> None:
    code = "import logging; logging.getLogger('workflows').warning('hello %s', 'there')"

    done = manage("shell", "-c", code, HATCHET_LOG_FORMAT="json")

    assert done.returncode == 0, done.stderr
    [line] = [json.loads(line) for line in done.stderr.splitlines()]
    assert line["message"] == "hello there"
    assert line["level"] == "WARNING"


def test_an_unknown_log_format_is_refused_by_name() -> None:
    done = manage("check", HATCHET_LOG_FORMAT="xml")

    assert done.returncode != 0
    assert "HATCHET_LOG_FORMAT must be 'plain' or 'json', not 'xml'." in done.stderr
