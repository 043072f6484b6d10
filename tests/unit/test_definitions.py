"""Registering definitions: validation messages and versioning by checksum."""

from typing import Any

import pytest

from hatchet.errors import InvalidDefinition
from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine.definitions import register_workflow
from workflows.models import Step

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (definition(steps=[{"name": "a", "parents": ["zz"]}]), "Step 'a' has unknown parent 'zz'."),
        (
            definition(steps=[{"name": "a", "parents": ["b"]}, {"name": "b", "parents": ["a"]}]),
            "Steps form a cycle (each waits for the next): a -> b -> a.",
        ),
        (definition(steps=[{"name": "a"}, {"name": "a"}]), "Duplicate step 'a'."),
        (
            definition(steps=[{"name": "a", "timeout": "soon"}]),
            "Step 'a': timeout: invalid duration 'soon'",
        ),
        (
            definition(steps=[{"name": "a", "retries": -1}]),
            "Step 'a': retries must not be negative (got -1).",
        ),
        (definition(steps=[]), "A workflow needs from 1 to 500 steps."),
        (definition(name="no spaces"), "Workflow name 'no spaces' is invalid"),
        (definition(colour="red"), "The workflow definition has unknown field(s): colour."),
        (definition(on_crons=["every day"]), "Invalid cron expression 'every day'."),
        ([1, 2], "A workflow definition must be a JSON object."),
        (definition(priority=0), "priority must be an integer from 1 to 4 (4 is the most urgent)."),
        (
            definition(steps=[{"name": "a"}, {"name": "x", "on_failure": "yes"}]),
            "Step 'x': on_failure must be true or false.",
        ),
        (
            definition(steps=[{"name": "x", "on_failure": True}]),
            "The on-failure step 'x' needs another step to watch.",
        ),
        (
            definition(
                steps=[
                    {"name": "a"},
                    {"name": "x", "on_failure": True},
                    {"name": "y", "on_failure": True},
                ]
            ),
            "A workflow has at most one on-failure step (found x, y).",
        ),
        (
            definition(steps=[{"name": "a"}, {"name": "x", "parents": ["a"], "on_failure": True}]),
            "The on-failure step 'x' cannot have parents: it runs when any step fails.",
        ),
        (
            definition(steps=[{"name": "x", "on_failure": True}, {"name": "a", "parents": ["x"]}]),
            "Step 'a' cannot wait for the on-failure step 'x'.",
        ),
    ],
)
def test_invalid_definitions_are_refused_precisely(tenant: Tenant, raw: Any, message: str) -> None:
    with pytest.raises(InvalidDefinition) as error:
        register_workflow(tenant, raw)

    assert error.value.message.startswith(message)
    assert not Step.objects.exists()


def test_same_definition_twice_is_one_version_and_a_change_makes_another(tenant: Tenant) -> None:
    first, created_first = register_workflow(tenant, definition())
    again, created_again = register_workflow(tenant, definition())
    changed, created_changed = register_workflow(
        tenant, definition(steps=[{"name": "a", "timeout": "5m", "retries": 3}])
    )

    assert (created_first, created_again, created_changed) == (True, False, True)
    assert again.pk == first.pk
    assert (first.number, changed.number) == (1, 2)
    step = changed.steps.get()
    assert (step.action, step.timeout_seconds, step.retries) == ("Chain:a", 300.0, 3)
    assert [s.parents for s in first.steps.all()] == [[], ["a"], ["b"]]


def test_tenants_have_their_own_workflows(tenant: Tenant, other_tenant: Tenant) -> None:
    mine, _ = register_workflow(tenant, definition())
    theirs, created = register_workflow(other_tenant, definition())

    assert created
    assert mine.workflow_id != theirs.workflow_id


def test_a_definition_without_later_fields_keeps_its_checksum(tenant: Tenant) -> None:
    """`evaluator` and a step's `on_failure` came later: definitions without them hash
    as they did (the checksum below is the one from before either existed), so that
    upgrading the server makes no new versions."""
    version, _ = register_workflow(tenant, definition())
    assert "evaluator" not in version.definition
    assert all("on_failure" not in step for step in version.definition["steps"])
    assert version.checksum == ("36eeb71bf714adc5efddf49b28d7c3dde368ec9434f13a26757a0889fcb77ba9")
    with_handler = definition(steps=[{"name": "a"}, {"name": "x", "on_failure": True}])
    handled, _ = register_workflow(tenant, with_handler)
    assert [(s.name, s.is_on_failure) for s in handled.steps.all()] == [("a", False), ("x", True)]
