"""Fixtures of the playground tests: a past run of the three-step workflow whose steps
expose variables, and a loopback GitHub for the pull requests (tests/factories.py makes
the rest)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hatchet.models import Tenant
from tests.e2e.live import stop_process
from tests.factories import (
    ENCRYPTION_KEY,
    GITHUB_TOKEN,
    SUPPORT_PY,
    PlaygroundWorker,
    register_support,
    start_celery_worker,
)
from tests.github_server import GitRepository, LoopbackGitHub
from workflows.engine.runs import trigger_workflow_run
from workflows.models import WorkflowRun


@pytest.fixture
def source(tenant: Tenant) -> WorkflowRun:
    """A finished customer interaction: Support ran once on a real ticket."""
    register_support(tenant)
    run = trigger_workflow_run(tenant, "Support", {"ticket": "Where is my refund?"})
    PlaygroundWorker(tenant).run_all()
    return run


@pytest.fixture
def github(tmp_path: Path, settings: Any) -> Iterator[LoopbackGitHub]:
    """A loopback GitHub with the repository acme/app, that GITHUB_API_URL points at
    (and a key to store the token with)."""
    server = LoopbackGitHub(tmp_path, token=GITHUB_TOKEN).start()
    settings.GITHUB_API_URL = server.url
    settings.GITHUB_TOKEN = ""
    settings.HATCHET_ENCRYPTION_KEYS = [ENCRYPTION_KEY]
    settings.HATCHET_GITHUB_WRITE_INTERVAL = 0
    yield server
    server.stop()


@pytest.fixture
def task_runner(github: LoopbackGitHub, tmp_path: Path, settings: Any) -> Iterator[None]:
    """Who runs the tasks that the API queues: in the embedded mode, threads of this
    process; with Redis, as in production, a Celery worker on this test database and
    the loopback GitHub."""
    if not settings.REDIS_URL:
        yield
        return
    worker = start_celery_worker(
        tmp_path / "celery.log",
        {
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": "",
            "HATCHET_GITHUB_WRITE_INTERVAL": "0",
            "HATCHET_ENCRYPTION_KEY": ENCRYPTION_KEY,
        },
    )
    yield
    stop_process(worker)


@pytest.fixture
def repo(github: LoopbackGitHub) -> GitRepository:
    github.repo.commit_files("main", {"support.py": SUPPORT_PY, "README.md": "# app\n"})
    return github.repo
