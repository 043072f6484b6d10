"""A list takes the query parameters its schema names, as the schema states them, and
refuses the rest with a 400 naming the parameter (issue 17, item 13)."""

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import member_client, register, start_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ("limit=garbage", {"limit": ["Must be an integer from 1 to 500."]}),
        ("limit=0", {"limit": ["Must be an integer from 1 to 500."]}),
        ("limit=501", {"limit": ["Must be an integer from 1 to 500."]}),
        ("offset=null", {"offset": ["Must be an integer of at least 0."]}),
        ("offset=-1", {"offset": ["Must be an integer of at least 0."]}),
        ("workflow=", {"workflow": ["May not be blank."]}),
        ("wrkflow=Chain", {"wrkflow": ["Unknown query parameter."]}),
    ],
)
@pytest.mark.parametrize("resource", ["runs", "crons", "schedules", "playground/variants"])
def test_a_bad_query_parameter_of_a_list_is_refused(
    api: APIClient, resource: str, query: str, details: dict[str, list[str]]
) -> None:
    response = api.get(f"/api/v1/{resource}?{query}")

    assert response.status_code == 400
    [(name, [message])] = details.items()
    assert response.json() == {
        "error": {"code": "invalid_request", "message": f"{name}: {message}", "details": details}
    }


@pytest.mark.parametrize("resource", ["workflows", "tokens", "members", "workers", "invitations"])
def test_a_list_without_filters_takes_only_limit_and_offset(api: APIClient, resource: str) -> None:
    assert api.get(f"/api/v1/{resource}?limit=1&offset=0").status_code == 200

    response = api.get(f"/api/v1/{resource}?status=FAILED")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"status": ["Unknown query parameter."]}


def test_the_invitations_one_received_take_only_limit_and_offset(tenant: Tenant) -> None:
    person = member_client(tenant, "viewer", username="zoe")
    assert person.get("/api/v1/session/invitations?limit=1&offset=0").status_code == 200

    response = person.get("/api/v1/session/invitations?status=FAILED")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"status": ["Unknown query parameter."]}


def test_metadata_filters_take_both_spellings(api: APIClient, tenant: Tenant) -> None:
    register(tenant)
    run = start_run(tenant, additional_metadata={"team": "b"})

    by_pair = api.get("/api/v1/runs?metadata=team:b&limit=500&offset=0")
    bracketed = api.get("/api/v1/runs?metadata[team]=b")

    assert [r["id"] for r in by_pair.json()["results"]] == [str(run.id)]
    assert [r["id"] for r in bracketed.json()["results"]] == [str(run.id)]


def test_a_push_with_neither_a_key_nor_events_is_refused(api: APIClient) -> None:
    response = api.post("/api/v1/events", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_filter_of_spaces_is_a_value_not_a_blank(api: APIClient) -> None:
    """The schema allows it (schemathesis sent `key_prefix=%20` to the events list,
    which trimmed it to blank and refused it: ST202)."""
    for path, name in [("/api/v1/events", "key_prefix"), ("/api/v1/crons", "workflow")]:
        response = api.get(path, {name: " "})
        assert response.status_code == 200, response.json()
        assert response.json()["results"] == []
