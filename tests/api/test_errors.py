"""Every API error is {"error": {"code", "message", "details"}} with the right status."""

import json

import pytest
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from hatchet.models import Tenant
from hatchet.urls import server_error
from tests.factories import definition, member_client
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def error_of(response: object) -> dict[str, object]:
    return response.json()["error"]  # type: ignore[attr-defined]


def test_no_credentials_is_401() -> None:
    response = APIClient().get("/api/v1/runs")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response) == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "details": {},
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer hct_not-a-real-token", "Invalid or revoked API token."),
        ("Token abc", "Authorization header must be 'Bearer <token>'."),
    ],
)
def test_a_bad_token_is_401(header: str, message: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/workflows")

    assert response.status_code == 401
    assert error_of(response) == {"code": "not_authenticated", "message": message, "details": {}}


def test_a_user_of_no_tenant_is_403(tenant: Tenant, other_tenant: Tenant) -> None:
    outsider = member_client(other_tenant, "admin")

    response = outsider.get("/api/v1/runs", HTTP_X_HATCHET_TENANT=tenant.slug)

    assert response.status_code == 403
    assert error_of(response)["message"] == "You are not a member of this tenant."


def test_malformed_json_is_400(api: APIClient) -> None:
    response = api.post("/api/v1/workflows", '{"name": ', content_type="application/json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "malformed_json"
    assert error["message"] == (
        "The body is not valid JSON: Expecting value: line 1 column 10 (char 9)."
    )


def test_a_form_body_is_415(api: APIClient) -> None:
    response = api.post("/api/v1/workflows", {"name": "Chain"})

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def body_of_size(size: int) -> str:
    base = json.dumps(definition(description=""))
    body = base.replace('"description": ""', '"description": "' + "x" * (size - len(base)) + '"')
    assert len(body.encode()) == size
    return body


@override_settings(HATCHET_MAX_MESSAGE_BYTES=200, DATA_UPLOAD_MAX_MEMORY_SIZE=200)
def test_a_body_over_the_limit_is_413(api: APIClient) -> None:
    response = api.post("/api/v1/workflows", body_of_size(201), content_type="application/json")

    assert response.status_code == 413
    assert error_of(response) == {
        "code": "payload_too_large",
        "message": "The request body is larger than 200 bytes.",
        "details": {},
    }
    assert not Workflow.objects.exists()


@override_settings(HATCHET_MAX_MESSAGE_BYTES=200, DATA_UPLOAD_MAX_MEMORY_SIZE=200)
def test_a_body_at_the_limit_is_accepted(api: APIClient) -> None:
    response = api.post("/api/v1/workflows", body_of_size(200), content_type="application/json")

    assert response.status_code == 201


def test_an_unsupported_method_is_405(api: APIClient) -> None:
    response = api.put("/api/v1/runs", {}, format="json")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_an_unknown_api_path_is_a_json_404(api: APIClient) -> None:
    response = api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "No API resource at /api/v1/nothing-here.",
            "details": {},
        }
    }


def test_an_unknown_page_elsewhere_is_djangos_404(client: Client) -> None:
    response = client.get("/static/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_server_error_under_api_is_json() -> None:
    request = RequestFactory().get("/api/v1/runs")

    response = server_error(request)

    assert response.status_code == 500
    assert json.loads(response.content) == {
        "error": {
            "code": "server_error",
            "message": "The server failed; the error was logged.",
            "details": {},
        }
    }


def test_the_schema_and_its_docs_are_served(client: Client) -> None:
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/workflows/{name}/runs:" in schema.content
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
