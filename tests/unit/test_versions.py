"""The latest version as triggers read it: kept per process, asked again when its time
is up, and built again only when another process registered or paused meanwhile."""

from typing import Any

import pytest

from hatchet.models import Tenant
from tests.factories import definition
from workflows.engine import definitions, versions
from workflows.engine.definitions import register_workflow
from workflows.engine.versions import latest_version
from workflows.models import Workflow

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("always_due")]


@pytest.fixture
def always_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cached version is due to be asked about again at its next use."""
    monkeypatch.setattr(versions, "LATEST_VERSION_SECONDS", -1.0)


@pytest.fixture
def elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations happen as in another process: this one is not told."""
    monkeypatch.setattr(definitions, "forget_latest_version", lambda *args: None)


def test_an_unchanged_version_goes_on_when_its_time_is_up(
    tenant: Tenant, django_assert_num_queries: Any
) -> None:
    register_workflow(tenant, definition("Kept", [{"name": "only"}]))
    first = latest_version(tenant, "Kept")
    with django_assert_num_queries(1):
        again = latest_version(tenant, "Kept")
    assert again is first


@pytest.mark.usefixtures("elsewhere")
def test_a_version_registered_elsewhere_is_read_when_the_time_is_up(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Grows", [{"name": "one"}]))
    first = latest_version(tenant, "Grows")
    register_workflow(tenant, definition("Grows", [{"name": "one"}, {"name": "two"}]))
    newer = latest_version(tenant, "Grows")
    assert newer.number == first.number + 1


def test_a_pause_set_elsewhere_is_read_when_the_time_is_up(tenant: Tenant) -> None:
    register_workflow(tenant, definition("Paused", [{"name": "only"}]))
    assert not latest_version(tenant, "Paused").workflow.is_paused
    Workflow.objects.filter(tenant=tenant, name="Paused").update(is_paused=True)
    assert latest_version(tenant, "Paused").workflow.is_paused
