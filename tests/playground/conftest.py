"""Fixtures of the playground tests: a past run of the three-step workflow whose steps
expose variables, and a loopback GitHub for the pull requests (tests/factories.py makes
the rest)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench.livestack import LIVE_STACK_KEYS, sibling_database_url
from bench.processes import ROOT
from hatchet.models import Tenant
from tests.e2e.live import stop_process
from tests.factories import (
    ENCRYPTION_KEY,
    GITHUB_TOKEN,
    SUPPORT_PY,
    PlaygroundWorker,
    register_support,
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
    database = connection.settings_dict["NAME"]
    with open(tmp_path / "celery.log", "wb") as log:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "hatchet.celery", "worker"),
                *(
                    "--pool",
                    "solo",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel",
                    "WARNING",
                ),
            ],
            cwd=ROOT,
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
                "DATABASE_URL": sibling_database_url(os.environ["DATABASE_URL"], database),
                "GITHUB_API_URL": github.url,
                "GITHUB_TOKEN": "",
                "HATCHET_GITHUB_WRITE_INTERVAL": "0",
                "HATCHET_ENCRYPTION_KEY": ENCRYPTION_KEY,
                **{k: v for k, v in LIVE_STACK_KEYS.items() if k != "HATCHET_ENCRYPTION_KEY"},
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    yield
    stop_process(worker)


@pytest.fixture
def repo(github: LoopbackGitHub) -> GitRepository:
    github.repo.commit_files("main", {"support.py": SUPPORT_PY, "README.md": "# app\n"})
    return github.repo
