"""Helpers of the REST API tests: members with a role, runs driven by a fake worker."""

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from hatchet.models import Membership, Tenant
from tests.conftest import definition
from workflows.engine.definitions import register_workflow
from workflows.engine.queue import claim_queued_step_runs
from workflows.engine.results import record_step_completed, record_step_failed, record_step_started
from workflows.engine.runs import trigger_workflow_run
from workflows.models import StepRun, WorkflowRun, WorkflowVersion


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
