"""Sign-in and event push are throttled: 429 with Retry-After in the JSON error shape,
counted in the cache that every server process shares."""

import time
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from rest_framework.test import APIClient

from hatchet.models import Membership, Tenant
from hatchet.throttling import Rate, spend
from tests.factories import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 9"


@pytest.fixture
def ada(tenant: Tenant) -> None:
    user = get_user_model().objects.create_user("ada", "ada@example.com", PASSWORD)
    Membership.objects.create(tenant=tenant, user=user, role="editor")


def sign_in(username: str, password: str, address: str = "127.0.0.1") -> Any:
    return APIClient().post(
        "/api/v1/session",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def assert_throttled(answer: Any, message: str, longest_wait: int) -> None:
    wait = int(answer["Retry-After"])
    assert 1 <= wait <= longest_wait
    assert (answer.status_code, answer.json()) == (
        429,
        {
            "error": {
                "code": "throttled",
                "message": f"{message} Expected available in {wait} second{'s' * (wait > 1)}.",
                "details": {},
            }
        },
    )


@pytest.mark.usefixtures("ada")
def test_failed_sign_ins_are_throttled_per_username_and_address_before_any_hashing(
    settings: Any,
) -> None:
    # Counted per hour, not per minute: the tries must not straddle two windows.
    settings.HATCHET_SIGN_IN_RATE = "5/hour"
    failures = [sign_in("ada", "wrong").status_code for _ in range(5)]
    cpu = time.process_time()
    refused = sign_in("ada", PASSWORD)
    cpu = time.process_time() - cpu

    assert failures == [400] * 5
    assert_throttled(refused, "Too many sign-in attempts.", 3600)
    # A password check costs a third of a second of CPU; a throttled answer runs none.
    assert cpu < 0.15
    assert sign_in("ada", PASSWORD, address="10.0.0.2").status_code == 200
    assert sign_in("bob", "wrong").status_code == 400


@pytest.mark.usefixtures("tenant")
def test_the_admin_login_page_is_counted_and_refused_alike(settings: Any) -> None:
    settings.HATCHET_SIGN_IN_RATE = "5/hour"
    get_user_model().objects.create_superuser("root", "", PASSWORD)
    admin_page = Client()
    for _ in range(5):
        admin_page.post("/admin/login/", {"username": "root", "password": "wrong"})

    refused = sign_in("root", PASSWORD)
    cpu = time.process_time()
    admin_page.post("/admin/login/", {"username": "root", "password": PASSWORD})
    cpu = time.process_time() - cpu

    assert_throttled(refused, "Too many sign-in attempts.", 3600)
    assert "_auth_user_id" not in admin_page.session
    assert cpu < 0.15


@pytest.mark.usefixtures("ada")
def test_signing_in_forgives_the_failures_before_it() -> None:
    before = [sign_in("ada", "wrong").status_code for _ in range(4)]
    signed_in = sign_in("ada", PASSWORD)
    after = [sign_in("ada", "wrong").status_code for _ in range(4)]

    assert (before, signed_in.status_code, after) == ([400] * 4, 200, [400] * 4)


@pytest.mark.usefixtures("ada")
def test_sign_in_attempts_from_one_address_are_limited_across_usernames(settings: Any) -> None:
    settings.HATCHET_SIGN_IN_ADDRESS_RATE = "3/hour"

    answers = [sign_in(name, "wrong") for name in ("ann", "ben", "cy", "ada")]

    assert [a.status_code for a in answers[:3]] == [400] * 3
    assert_throttled(answers[3], "Too many sign-in attempts.", 3600)
    assert sign_in("ada", PASSWORD, address="10.0.0.2").status_code == 200


def test_a_throttle_waits_for_the_next_window_and_lets_it_through() -> None:
    rate = Rate(2, 60)
    start = 600 * 60 + 15.5  # 15.5 s into a window

    tries = [spend("test", "ada", rate, now=start + offset) for offset in (0, 10, 20)]

    assert tries == [None, None, 25]  # the window ends 44.5 s after its 15.5th second
    assert spend("test", "ada", rate, now=start + 45) is None
    assert spend("test", "bob", rate, now=start + 20) is None


def test_event_pushes_are_throttled_per_token(tenant: Tenant, settings: Any) -> None:
    settings.HATCHET_EVENT_PUSH_RATE = "3/hour"
    api, other = client_for(tenant), client_for(tenant)

    pushed = [api.post("/api/v1/events", {"key": "k"}, format="json") for _ in range(4)]

    assert [answer.status_code for answer in pushed[:3]] == [201] * 3
    assert_throttled(pushed[3], "Request was throttled.", 3600)
    assert other.post("/api/v1/events", {"key": "k"}, format="json").status_code == 201
    assert api.get("/api/v1/events").json()["count"] == 4


@pytest.mark.usefixtures("ada")
def test_the_counters_live_where_every_server_process_reads_them(settings: Any) -> None:
    settings.HATCHET_SIGN_IN_RATE = "5/hour"
    for _ in range(5):
        sign_in("ada", "wrong")

    if settings.REDIS_URL:
        # Another connection to Redis, as another server process would have.
        keys = redis.Redis.from_url(settings.REDIS_URL).keys(f"{cache.key_prefix}:*:throttle:*")
        assert len(keys) == 2  # the username and address's, and the address's
    else:
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    assert sign_in("ada", PASSWORD).status_code == 429


def test_a_rate_that_does_not_parse_is_named_by_the_system_check(settings: Any) -> None:
    settings.HATCHET_EVENT_PUSH_RATE = "1000 per second"

    with pytest.raises(SystemCheckError) as failed:
        call_command("check")

    assert (
        "hatchet.E001) HATCHET_EVENT_PUSH_RATE: a rate is N/s, N/min or N/hour, not "
        "'1000 per second'." in str(failed.value)
    )


@pytest.mark.usefixtures("ada")
def test_while_the_cache_is_unreachable_nothing_is_limited_and_nothing_fails(
    tenant: Tenant, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis restarting under a server must not turn event pushes and sign-ins into
    500s (the fault suite saw it): the limits lapse until it is back."""
    settings.HATCHET_EVENT_PUSH_RATE = "1/hour"
    settings.HATCHET_SIGN_IN_RATE = "1/hour"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # A port nothing listens on.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    api = client_for(tenant)

    pushed = [api.post("/api/v1/events", {"key": "k"}, format="json") for _ in range(2)]
    signed_in = [sign_in("ada", "wrong").status_code for _ in range(2)]

    assert [answer.status_code for answer in pushed] == [201, 201]
    assert signed_in == [400, 400]
    assert sign_in("ada", PASSWORD).status_code == 200
    assert "the cache is unreachable, nothing is limited meanwhile" in caplog.text
