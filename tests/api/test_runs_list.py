"""GET /api/v1/runs as the playground and a person reading the list use it: a summary of
each run's input, the inputs themselves when asked, and the trigger filters (issue 19)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hatchet.api import CappedCountPagination
from hatchet.models import Tenant
from tests.factories import register
from workflows.engine.runs import trigger_workflow_run
from workflows.serializers import input_summary

pytestmark = pytest.mark.django_db


def results(response: object) -> list[dict[str, object]]:
    assert response.status_code == 200  # type: ignore[attr-defined]
    return response.json()["results"]  # type: ignore[attr-defined]


def test_each_run_has_a_summary_of_its_input_and_its_input_only_when_asked(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    run = trigger_workflow_run(tenant, "Chain", {"attempts": 2, "question": "Where is my parcel?"})

    [listed] = results(api.get("/api/v1/runs"))
    [with_input] = results(api.get("/api/v1/runs?with_input=true"))
    [without] = results(api.get("/api/v1/runs?with_input=false"))

    assert listed["input_summary"] == "Where is my parcel?"
    assert "input" not in listed
    assert without == listed
    assert with_input == {**listed, "input": {"attempts": 2, "question": "Where is my parcel?"}}
    assert with_input["id"] == str(run.id)


def test_the_trigger_filters_keep_or_leave_out_runs_started_one_way(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    by_api = trigger_workflow_run(tenant, "Chain", {"n": 1})
    by_playground = trigger_workflow_run(tenant, "Chain", {"n": 2}, trigger="playground")
    by_cron = trigger_workflow_run(tenant, "Chain", {"n": 3}, trigger="cron")

    def ids(query: str) -> list[str]:
        return [str(row["id"]) for row in results(api.get(f"/api/v1/runs?{query}"))]

    assert ids("trigger=playground") == [str(by_playground.id)]
    assert ids("exclude_trigger=playground") == [str(by_cron.id), str(by_api.id)]
    assert ids("trigger=api&exclude_trigger=playground") == [str(by_api.id)]


TRIGGERS = "Use one of api, cron, evaluator, event, playground, replay, schedule, spawn."


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("trigger=webhook", {"trigger": [TRIGGERS]}),
        ("exclude_trigger=PLAYGROUND", {"exclude_trigger": [TRIGGERS]}),
        ("exclude_trigger=", {"exclude_trigger": ["May not be blank."]}),
        ("with_input=perhaps", {"with_input": ["Must be a valid boolean."]}),
    ],
)
def test_a_bad_trigger_or_with_input_is_refused(
    api: APIClient, query: str, details: dict[str, list[str]]
) -> None:
    response = api.get(f"/api/v1/runs?{query}")

    assert response.status_code == 400
    [(name, [message])] = details.items()
    assert response.json() == {
        "error": {"code": "invalid_request", "message": f"{name}: {message}", "details": details}
    }


def test_the_list_with_inputs_costs_the_same_queries_for_one_run_or_many(
    api: APIClient, tenant: Tenant
) -> None:
    register(tenant)
    trigger_workflow_run(tenant, "Chain", {"question": "one"})
    api.get("/api/v1/runs")  # records the token's use, which is written once a minute
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/runs?with_input=true")
    for n in range(5):
        trigger_workflow_run(tenant, "Chain", {"question": f"more {n}"})

    with CaptureQueriesContext(connection) as many:
        response = api.get("/api/v1/runs?with_input=true")

    assert response.json()["count"] == 6
    assert len(many) == len(one)


@pytest.mark.parametrize(
    ("value", "summary"),
    [
        ({"ticket": "Refund  please,\n\tthanks"}, "Refund please, thanks"),
        ({"n": 1, "ticket": "Refund please"}, "Refund please"),
        ({"n": 1, "tags": ["a", "b"]}, '{"n":1,"tags":["a","b"]}'),
        ({}, "{}"),
        ({"ticket": "é" * 100}, "é" * 79 + "…"),
        ({"ticket": "x" * 80}, "x" * 80),
        (
            {"numbers": list(range(1000))},
            ('{"numbers":[' + ",".join(map(str, range(1000))))[:79] + "…",
        ),
    ],
)
def test_an_input_summary_is_its_first_string_field_else_compact_json_cut_to_80(
    value: object, summary: str
) -> None:
    assert input_summary(value) == summary
    assert len(input_summary(value)) <= 80


def test_the_count_stops_at_its_limit_and_next_pages_on_past_it(
    api: APIClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CappedCountPagination, "COUNT_LIMIT", 3)
    register(tenant)
    for n in range(5):
        trigger_workflow_run(tenant, "Chain", {"n": n})

    with CaptureQueriesContext(connection) as queries:
        first = api.get("/api/v1/runs?limit=2").json()
    [count_sql] = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    last = api.get("/api/v1/runs?limit=2&offset=4").json()
    failed = api.get("/api/v1/runs?status=FAILED").json()

    assert (first["count"], first["count_capped"], len(first["results"])) == (3, True, 2)
    assert "offset=2" in first["next"]
    assert (last["count"], last["count_capped"], len(last["results"]), last["next"]) == (
        3,
        True,
        1,
        None,
    )
    assert (failed["count"], failed["count_capped"], failed["next"]) == (0, False, None)
    # The count reads at most one row past its limit.
    assert "LIMIT 4" in count_sql.upper()
