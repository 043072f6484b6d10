"""Schemathesis over every operation of the OpenAPI schema, with a valid token and with
none (issue 17, item 13): every answer is documented, every request the schema calls
valid is taken and every one it calls invalid is refused, in-process against the
Django app on whichever backend the environment names. Seeded (derandomize), so that
a failure reproduces."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from hatchet.models import APIToken, Tenant, TokenRole
from tests.factories import ENCRYPTION_KEY

pytestmark = pytest.mark.django_db

# Requests the schema cannot tell valid from invalid, as their validity depends on the
# server's state or on a grammar JSON Schema has no words for; each may answer 400.
VALID_IN_CONTEXT_ONLY = {
    ("POST", "/api/v1/crons"): "a cron expression's grammar and a time zone's name",
    ("POST", "/api/v1/schedules"): "trigger_at must be in the future",
    ("PATCH", "/api/v1/schedules/{id}"): "trigger_at must be in the future",
    ("POST", "/api/v1/members"): "a new user needs a password",
    ("POST", "/api/v1/playground/evaluators"): "the config's fields are its kind's",
    (
        "PUT",
        "/api/v1/playground/github-connection",
    ): "a token, stored or sent, unless the server's GITHUB_TOKEN may serve the repository",
}


def schemathesis_config() -> SchemathesisConfig:
    positive = "positive_data_acceptance"
    return SchemathesisConfig.from_dict(
        {
            # NUL is refused everywhere (invalid_text): see docs/protocol.md.
            "generation": {"allow-x00": False},
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {
                        positive: {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                }
                for method, path in VALID_IN_CONTEXT_ONLY
            ],
        }
    )


def load_schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(raw, config=schemathesis_config())
    loaded.app = get_wsgi_application()
    return loaded


with_token = load_schema()
anonymous = load_schema()
# The token the running test issued; the auth provider reads it for each request.
issued: dict[str, str] = {}


@with_token.auth(refresh_interval=None)
class TenantToken:
    def get(self, _case: Any, _context: Any) -> str:
        return issued.get("secret", "")

    def set(self, case: Any, data: str, _context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(autouse=True)
def connection_kept_across_requests() -> Iterator[None]:
    """The app is called as WSGI, whose request signals close the database connection,
    and the test's transaction with it; Django's test client keeps it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def encryption_key(request: pytest.FixtureRequest) -> None:
    """Configured as a deployment is: without it, a GitHub secret sent is a 503."""
    request.getfixturevalue("settings").HATCHET_ENCRYPTION_KEYS = [ENCRYPTION_KEY]


@pytest.fixture
def token(tenant: Tenant) -> str:
    _, issued["secret"] = APIToken.issue(tenant, "schemathesis", TokenRole.ADMIN)
    return issued["secret"]


FAST = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@with_token.parametrize()
@settings(FAST, max_examples=30)
@pytest.mark.usefixtures("token")
def test_every_operation_with_a_token(case: Any) -> None:
    case.call_and_validate()


@anonymous.parametrize()
@settings(FAST, max_examples=10)
@pytest.mark.usefixtures("db")
def test_every_operation_without_credentials(case: Any) -> None:
    case.call_and_validate()
