"""Versions as triggers see them, read from the database once per process where
that is safe: a version's steps never change once registered, and the latest version
of a workflow changes only when a new one registers."""

import functools
import threading
import time
from typing import Any
from uuid import UUID

from hatchet.errors import NotFound
from hatchet.models import Tenant
from workflows.models import Step, WorkflowVersion

# How long another server process may go on starting runs of the version that was
# latest before one registered there; this process forgets it at once.
LATEST_VERSION_SECONDS = 1.0

_latest: dict[tuple[Any, str], tuple[WorkflowVersion, float]] = {}
_latest_lock = threading.Lock()


@functools.lru_cache(maxsize=1024)
def steps_of(version_id: UUID) -> list[Step]:
    """The steps in position order; shared, so callers must not change them."""
    return list(Step.objects.filter(version_id=version_id).order_by("position"))


def latest_version(tenant: Tenant, workflow_name: str) -> WorkflowVersion:
    """The workflow's newest version (with its workflow), looked up at most once a
    LATEST_VERSION_SECONDS per process: the lookup was a third of a trigger's time."""
    key = (tenant.pk, workflow_name)
    now = time.monotonic()
    with _latest_lock:
        cached = _latest.get(key)
    if cached is not None and cached[1] > now:
        return cached[0]
    version = (
        WorkflowVersion.objects.filter(workflow__tenant=tenant, workflow__name=workflow_name)
        .select_related("workflow")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound(
            f"Workflow '{workflow_name}' is not registered.", {"workflow": workflow_name}
        )
    with _latest_lock:
        _latest[key] = (version, now + LATEST_VERSION_SECONDS)
    return version


def forget_latest_version(tenant_id: UUID, workflow_name: str) -> None:
    with _latest_lock:
        _latest.pop((tenant_id, workflow_name), None)
