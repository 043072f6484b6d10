"""Cancelling and replaying every run the runs list's filters match."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import member_client, register
from workflows.engine import bulk
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


def test_a_thousand_matching_runs_are_cancelled_and_the_others_left(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    register(tenant, "Other", steps=[{"name": "only"}])
    matching = trigger_workflow_runs(tenant, "Chain", [RunRequest({"n": n}) for n in range(1000)])
    others = trigger_workflow_runs(tenant, "Other", [RunRequest({})] * 3)

    response = api.post("/api/v1/runs/cancel?workflow=Chain&status=PENDING,RUNNING")

    assert response.status_code == 200, response.content
    assert response.json() == {"matched": 1000, "cancelled": 1000}
    assert set(
        WorkflowRun.objects.filter(pk__in=[r.pk for r in matching]).values_list("status", flat=True)
    ) == {"CANCELLED"}
    assert set(
        WorkflowRun.objects.filter(pk__in=[r.pk for r in others]).values_list("status", flat=True)
    ) == {"PENDING"}
    again = api.post("/api/v1/runs/cancel?workflow=Chain")
    assert again.json() == {"matched": 1000, "cancelled": 0}


def test_matching_runs_are_replayed_from_their_inputs(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    trigger_workflow_runs(
        tenant,
        "Chain",
        [
            RunRequest({"n": 1}, {"batch": "bad"}, None, 3),
            RunRequest({"n": 2}, {"batch": "bad"}),
            RunRequest({"n": 3}, {"batch": "good"}),
        ],
    )

    response = api.post("/api/v1/runs/replay?metadata=batch:bad")

    assert response.status_code == 201, response.content
    assert response.json() == {"matched": 2, "replayed": 2}
    replays = WorkflowRun.objects.filter(trigger="replay").order_by("created_at")
    assert [(r.input, r.additional_metadata, r.priority) for r in replays] == [
        ({"n": 1}, {"batch": "bad"}, 3),
        ({"n": 2}, {"batch": "bad"}, 1),
    ]


def test_a_filter_matching_too_many_runs_or_nothing_valid_is_refused(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(tenant)
    trigger_workflow_runs(tenant, "Chain", [RunRequest({})] * 3)
    monkeypatch.setattr(bulk, "MAX_BULK_RUNS", 2)

    too_many = api.post("/api/v1/runs/cancel?workflow=Chain")
    bad = api.post("/api/v1/runs/replay?status=LOST")
    unknown = api.post("/api/v1/runs/cancel?colour=red")

    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"].startswith("The filter matches more than 2 runs")
    assert bad.status_code == 400
    assert unknown.status_code == 400
    assert set(WorkflowRun.objects.values_list("status", flat=True)) == {"PENDING"}


def test_a_viewer_cannot_cancel_or_replay_in_bulk(tenant: Tenant) -> None:
    viewer = member_client(tenant, "viewer", username="vi")
    responses: list[Any] = [viewer.post("/api/v1/runs/cancel"), viewer.post("/api/v1/runs/replay")]
    assert [r.status_code for r in responses] == [403, 403]
