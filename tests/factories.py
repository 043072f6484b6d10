"""Helpers the tests share: objects made as their programs and people make them."""

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from bench.livestack import LIVE_STACK_KEYS, sibling_database_url
from bench.processes import ROOT
from hatchet.asgi import router
from hatchet.models import APIToken, Membership, Tenant, TokenRole
from playground.catalog import record_variables
from playground.github.connections import save_connection
from playground.models import GitHubConnection, PlaygroundRun, Variable
from playground.services import json_type_of
from tests.github_server import LoopbackGitHub
from workers.models import Worker
from workers.registry import register_worker
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import Assignment, claim_queued_step_runs
from workflows.engine.results import record_step_completed, record_step_failed, record_step_started
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun, WorkflowVersion

SignalCapture = Callable[..., list[Any]]


def client_for(tenant: Tenant) -> APIClient:
    _, secret = APIToken.issue(tenant, "tests", TokenRole.ADMIN)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def definition(name: str = "Chain", steps: Any = None, **fields: Any) -> dict[str, Any]:
    """A workflow definition as the SDK sends it; a -> b -> c unless told otherwise."""
    if steps is None:
        steps = [
            {"name": "a", "parents": []},
            {"name": "b", "parents": ["a"]},
            {"name": "c", "parents": ["b"]},
        ]
    return {"name": name, "steps": steps, **fields}


async def open_socket(tenant: Tenant, path: str) -> WebsocketCommunicator:
    """A dashboard socket at `path`, connected with a new token of `tenant`."""
    _, secret = await database_sync_to_async(APIToken.issue)(tenant, "socket", TokenRole.ADMIN)
    socket = WebsocketCommunicator(
        router, path, headers=[(b"authorization", f"Bearer {secret}".encode())]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


def filled(value: Any, ids: dict[str, str]) -> Any:
    """`value` with each `{name}` in its strings replaced by `ids[name]`."""
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


def member_client(tenant: Tenant, role: str, username: str = "pat") -> APIClient:
    """A session client of a dashboard user with `role` in `tenant`."""
    user = get_user_model().objects.create_user(username=username, password="not-used-here")
    Membership.objects.create(tenant=tenant, user=user, role=role)
    client = APIClient()
    client.force_login(user)
    return client


def register(tenant: Tenant, name: str = "Chain", **fields: Any) -> WorkflowVersion:
    version, _ = register_workflow(tenant, definition(name, **fields))
    return version


def start_run(tenant: Tenant, name: str = "Chain", **fields: Any) -> WorkflowRun:
    return trigger_workflow_run(tenant, name, {"ticket": 1}, **fields)


def connect_worker(tenant: Tenant, name: str, actions: list[str], **fields: Any) -> Worker:
    """A worker of `tenant` registered as its socket registers it, with one slot."""
    worker, _ = register_worker(
        tenant,
        name=name,
        actions=actions,
        slots=1,
        labels={},
        sdk_version="",
        connection_id=uuid.uuid4(),
        node="test",
        **fields,
    )
    return worker


class ScriptedWorker:
    """Claims and reports step runs through the real engine functions, in the order the
    worker socket would; the tests choose when each step starts and ends."""

    def __init__(self, tenant: Tenant, name: str = "w1") -> None:
        self.tenant = tenant
        self.id = uuid.uuid4()
        self.name = name

    def claim(self, action: str) -> StepRun:
        (assignment,) = claim_queued_step_runs(
            tenant_id=self.tenant.id,
            worker_id=self.id,
            worker_name=self.name,
            actions=[action],
            slots=100,
        )
        return StepRun.objects.get(pk=assignment.step_run_id)

    def start(self, action: str) -> StepRun:
        step_run = self.claim(action)
        record_step_started(self.tenant.id, step_run.id, step_run.attempt, self.id)
        return step_run

    def complete(self, action: str, output: Any) -> StepRun:
        step_run = self.start(action)
        record_step_completed(self.tenant.id, step_run.id, step_run.attempt, self.id, output)
        return step_run

    def fail(self, action: str, error: str) -> StepRun:
        step_run = self.start(action)
        record_step_failed(
            self.tenant.id, step_run.id, step_run.attempt, self.id, error, "Traceback: boom"
        )
        return step_run


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


async def socket_close_code(path: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """The code a playground socket at `path` closes with, right after connecting."""
    socket = WebsocketCommunicator(router, path, headers=headers)
    await socket.connect()
    closed = await socket.receive_output(timeout=5)
    await socket.disconnect()
    return closed.get("code")


def start_celery_worker(log: Path, env: dict[str, str]) -> "subprocess.Popen[bytes]":
    """A Celery worker on this test database (the services backend), as production runs
    them; `env` is laid over this process's environment, less pytest's variables and
    OpenAI's (tests never reach the network)."""
    database = connection.settings_dict["NAME"]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENAI_"))}
    with open(log, "wb") as output:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "hatchet.celery", "worker"),
                *("--pool", "solo", "--without-mingle", "--without-gossip"),
                *("--loglevel", "WARNING"),
            ],
            cwd=ROOT,
            env={
                **inherited,
                "DATABASE_URL": sibling_database_url(os.environ["DATABASE_URL"], database),
                **LIVE_STACK_KEYS,
                **env,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def editor_with_plain_check(tenant: Tenant) -> APIClient:
    """An editor ("eve") of a tenant whose Support workflow is registered, with the
    check "plain" on its draft step: the brief variant's draft fails it, the defaults
    in code pass."""
    api = member_client(tenant, "editor", username="eve")
    answer = api.post(
        "/api/v1/playground/evaluators",
        {
            "workflow": "Support",
            "name": "plain",
            "kind": "not_contains",
            "step": "draft",
            "config": {"text": "Be brief"},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    return api
