"""How often a caller may do something: counters per fixed window in Django's cache,
which is Redis in the services mode, so that every server process counts together
(and the in-process memory of the one embedded server otherwise). While the cache is
unreachable nothing is counted and nothing is limited: a limit is not worth refusing
the service it guards."""

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from redis import RedisError
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from typing_extensions import override

from hatchet.auth import TokenUser

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        """'5/min', '1000/s', '100/hour'; '' or 'off' is no limit."""
        if text.strip().lower() in ("", "off"):
            return None
        match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", text.lower())
        if match is None or match[2] not in UNITS:
            raise ValueError(f"a rate is N/s, N/min or N/hour, not '{text}'")
        return cls(int(match[1]), UNITS[match[2]])


def counter(scope: str, ident: str, rate: Rate, now: float) -> tuple[str, float]:
    """The cache key of the window `now` falls in, and the seconds left of it."""
    window = int(now // rate.seconds)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:{window}", (window + 1) * rate.seconds - now


def wait_of(seconds_left: float) -> int:
    return max(math.ceil(seconds_left), 1)


def spend(scope: str, ident: str, rate: Rate | None, now: float | None = None) -> int | None:
    """Count one more; the seconds to wait when that is over the rate, else None."""
    if rate is None:
        return None
    key, left = counter(scope, ident, rate, time.time() if now is None else now)
    try:
        cache.add(key, 0, timeout=rate.seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:
            # The window's counter expired between the two calls.
            cache.set(key, count := 1, timeout=rate.seconds + 1)
    except RedisError as error:
        uncounted(error)
        return None
    return wait_of(left) if count > rate.count else None


def uncounted(error: RedisError) -> None:
    logger.warning("throttle: the cache is unreachable, nothing is limited meanwhile: %s", error)


def exhausted(scope: str, ident: str, rate: Rate | None) -> int | None:
    """The seconds to wait when the window's count has reached the rate, else None."""
    if rate is None:
        return None
    key, left = counter(scope, ident, rate, time.time())
    try:
        count = cache.get(key, 0)
    except RedisError as error:
        uncounted(error)
        return None
    return wait_of(left) if count >= rate.count else None


def forgive(scope: str, ident: str, rate: Rate | None) -> None:
    if rate is None:
        return
    try:
        cache.delete(counter(scope, ident, rate, time.time())[0])
    except RedisError as error:
        uncounted(error)


def rate_setting(name: str) -> Rate | None:
    return Rate.parse(str(getattr(settings, name)))


# Signing in: every password tried costs a deliberate third of a second of CPU, so
# failures are limited per username and address, and attempts per address.
def sign_in_attempt(username: str, address: str) -> str:
    return f"{username.lower()}|{address}"


def sign_in_wait(username: str, address: str, *, count: bool = True) -> int | None:
    """The seconds to wait before this sign-in may be tried, or None; counts it
    against the address unless `count` is false."""
    address_rate = rate_setting("HATCHET_SIGN_IN_ADDRESS_RATE")
    if count:
        address_wait = spend("sign_in_address", address, address_rate)
    else:
        address_wait = exhausted("sign_in_address", address, address_rate)
    attempt = sign_in_attempt(username, address)
    return address_wait or exhausted("sign_in", attempt, rate_setting("HATCHET_SIGN_IN_RATE"))


def record_sign_in(username: str, address: str, succeeded: bool) -> None:
    attempt, rate = sign_in_attempt(username, address), rate_setting("HATCHET_SIGN_IN_RATE")
    if succeeded:
        forgive("sign_in", attempt, rate)
    else:
        spend("sign_in", attempt, rate)


class RateThrottle(BaseThrottle):
    """A DRF throttle over `spend` at the rate of the setting `rate_name`, per caller:
    the API token, else the user."""

    scope = ""
    rate_name = ""

    def __init__(self) -> None:
        self.seconds_to_wait: int | None = None

    @override
    def allow_request(self, request: Request, view: Any) -> bool:
        user = request.user
        ident = f"token:{user.token.pk}" if isinstance(user, TokenUser) else f"user:{user.pk}"
        self.seconds_to_wait = spend(self.scope, ident, rate_setting(self.rate_name))
        return self.seconds_to_wait is None

    def wait(self) -> float | None:
        return self.seconds_to_wait


def client_address(request: HttpRequest | None) -> str:
    """The client's address as the server saw it (X-Forwarded-For's, only where
    HATCHET_TRUST_PROXY_HEADERS let Daphne believe it)."""
    return "" if request is None else str(request.META.get("REMOTE_ADDR") or "")


class ThrottledModelBackend(ModelBackend):
    """Django's password check, refused before any hashing while the caller is
    throttled: the API's sign-in, the admin's login page, any other."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        name = str(username or kwargs.get(get_user_model().USERNAME_FIELD) or "")
        address = client_address(request)
        if sign_in_wait(name, address) is not None:
            # Django's authenticate() takes this as "no", without asking other backends.
            raise PermissionDenied
        user = super().authenticate(request, username, password, **kwargs)
        record_sign_in(name, address, succeeded=user is not None)
        return user
