"""Helpers of the playground tests: a three-step workflow whose steps expose
variables, a fake worker that reports what the SDK would record, and a loopback
GitHub for the pull requests."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection

from bench.livestack import LIVE_STACK_KEYS, sibling_database_url
from hatchet.asgi import router
from hatchet.models import Tenant
from playground.catalog import record_variables
from playground.github.connections import save_connection
from playground.models import GitHubConnection, PlaygroundRun, Variable
from playground.services import json_type_of
from tests.api.conftest import member_client
from tests.conftest import definition
from tests.e2e.conftest import ROOT, stop_process
from tests.github_server import GitRepository, LoopbackGitHub
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.results import record_step_completed, record_step_started
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun, WorkflowVersion

WORKFLOW = "Support"
STEPS = [
    {"name": "classify", "parents": []},
    {"name": "draft", "parents": ["classify"]},
    {"name": "review", "parents": ["draft"]},
]
# What each step exposes by default: {step: {name: default}}.
DEFAULTS: dict[str, dict[str, Any]] = {
    "classify": {"labels": ["billing", "bug"]},
    "draft": {"system_prompt": "You are kind.", "temperature": 0.3, "max_words": 80},
    "review": {"strict": False},
}


def register_support(tenant: Tenant, **fields: Any) -> WorkflowVersion:
    version, _ = register_workflow(tenant, definition(WORKFLOW, STEPS, **fields))
    return version


def records(step: str, overrides: dict[str, Any], defaults: dict[str, Any] | None = None) -> list:
    """The playground records the SDK sends for `step`."""
    defaults = DEFAULTS[step] if defaults is None else defaults
    return [
        {
            "name": name,
            "default": default,
            "value": overrides.get(name, default),
            "type": json_type_of(default),
            "call_site": {"path": "support.py", "line": 10 + index, "function": step},
        }
        for index, (name, default) in enumerate(defaults.items())
    ]


@pytest.fixture
def source(tenant: Tenant) -> WorkflowRun:
    """A finished customer interaction: Support ran once on a real ticket."""
    register_support(tenant)
    run = trigger_workflow_run(tenant, "Support", {"ticket": "Where is my refund?"})
    PlaygroundWorker(tenant).run_all()
    return run


class PlaygroundWorker:
    """Claims step runs and completes them with the records the SDK would send."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.id = uuid.uuid4()

    def claim(self, step: str) -> list[Assignment]:
        return claim_queued_step_runs(
            tenant_id=self.tenant.id,
            worker_id=self.id,
            worker_name="fake",
            actions=[f"{WORKFLOW}:{step}"],
            slots=100,
        )

    def complete(
        self,
        assignment: Assignment,
        output: Any,
        *,
        defaults: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
    ) -> StepRun:
        ref = (self.tenant.id, assignment.step_run_id, assignment.attempt, self.id)
        assert record_step_started(*ref)
        playground = records(assignment.step, assignment.overrides, defaults)
        assert record_step_completed(*ref, output, playground, usage)
        # The engine announces after commit, which tests inside a transaction never
        # reach; the catalog's subscriber is called as the announcement would.
        record_variables([assignment.step_run_id])
        return StepRun.objects.get(pk=assignment.step_run_id)

    def run_step(self, step: str, **fields: Any) -> list[StepRun]:
        """Complete every queued run of `step`; each outputs the overrides it got."""
        return [
            self.complete(a, {"step": step, "used": a.overrides}, **fields)
            for a in self.claim(step)
        ]

    def run_all(self) -> None:
        for step in ("classify", "draft", "review"):
            self.run_step(step)


def playground_objects(tenant: Tenant) -> dict[str, str]:
    """One of everything the playground holds, in `tenant`, made by an admin: a run
    of Support with its variables, a variant, a comparison and its playground run."""
    register_support(tenant)
    run = trigger_workflow_run(tenant, "Support", {"ticket": "hi"})
    PlaygroundWorker(tenant).run_all()
    api = member_client(tenant, "admin", username="root")
    variant = api.post(
        "/api/v1/playground/variants", {"workflow": "Support", "name": "v"}, format="json"
    ).json()["id"]
    comparison = api.post(
        "/api/v1/playground/compare",
        {"workflow": "Support", "columns": [{"baseline": True}], "rows": [{"run": str(run.pk)}]},
        format="json",
    ).json()["id"]
    return {
        "source_run": str(run.pk),
        "variable": str(Variable.objects.filter(tenant=tenant).first().pk),  # type: ignore[union-attr]
        "variant": variant,
        "run": str(PlaygroundRun.objects.get(tenant=tenant).pk),
        "comparison": comparison,
    }


GITHUB_TOKEN = "ghp_loopbackSecretToken1234567890"
ENCRYPTION_KEY = "encryption-key-of-the-playground-tests"


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


# The code the catalog's call sites point into: records() puts draft's variables at
# lines 10 to 12 of support.py.
SUPPORT_PY = '''"""Support replies."""

from hatchet.sdk import Context, Hatchet

hatchet = Hatchet()


class Support:
    def draft(self, context: Context) -> dict:
        system = context.playground("system_prompt", "You are kind.")  # the voice
        temperature = context.playground("temperature", 0.3)
        max_words = context.playground("max_words", 80)  # hard limit
        return {"system": system, "temperature": temperature, "max_words": max_words}

    def classify(self, context: Context) -> dict:
        # Labels the router knows.
        labels = context.playground("labels", ["billing", "bug"])
        return {"labels": labels}
'''
WEBHOOK_SECRET = "webhook-secret-for-tests"


def connect(tenant: Tenant, github: LoopbackGitHub, **fields: Any) -> GitHubConnection:
    values = {
        "repository": github.full_name,
        "base_branch": "main",
        "token": GITHUB_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
        **fields,
    }
    return save_connection(tenant, **values)


@pytest.fixture
def repo(github: LoopbackGitHub) -> GitRepository:
    github.repo.commit_files("main", {"support.py": SUPPORT_PY, "README.md": "# app\n"})
    return github.repo


async def socket_close_code(path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """The code a playground socket at `path` closes with, right after connecting."""
    socket = WebsocketCommunicator(router, path, headers=headers)
    await socket.connect()
    closed = await socket.receive_output(timeout=5)
    await socket.disconnect()
    return closed.get("code")
