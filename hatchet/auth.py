"""Who is calling and for which tenant: API tokens and sessions, for DRF and Channels."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.db.models import QuerySet
from django.http.request import split_domain_port, validate_host
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from typing_extensions import override

from hatchet.errors import Forbidden
from hatchet.models import APIToken, Membership, Role, Tenant, TokenRole, role_allows

TENANT_HEADER = "HTTP_X_HATCHET_TENANT"


@dataclass(frozen=True)
class TokenUser:
    """The principal of a request authenticated by an API token."""

    token: APIToken
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    @property
    def username(self) -> str:
        return f"token:{self.token.name}"


def bearer_secret(header_value: str) -> str | None:
    scheme, _, secret = header_value.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[TokenUser, APIToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        secret = bearer_secret(header)
        if secret is None:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        token = APIToken.authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return TokenUser(token), token

    @override
    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


@dataclass(frozen=True)
class Caller:
    """A token (with its role) or a signed-in member (`user_id`, with the membership's
    role) acting for `tenant`."""

    tenant: Tenant
    role: str
    token: APIToken | None = None
    user_id: Any = None


def token_caller(token: APIToken) -> Caller:
    return Caller(tenant=token.tenant, role=token.role, token=token)


def memberships_of(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("tenant").order_by("created_at")


def caller_for_user(user: Any, tenant_slug: str | None) -> Caller | None:
    memberships = memberships_of(user)
    if tenant_slug:
        memberships = memberships.filter(tenant__slug=tenant_slug)
    membership = memberships.first()
    if membership is None:
        return None
    return Caller(tenant=membership.tenant, role=membership.role, user_id=membership.user_id)


def caller_of(request: Request) -> Caller:
    """The tenant and role a request acts as; raises if it acts for none."""
    cached = getattr(request, "_hatchet_caller", None)
    if cached is not None:
        return cached
    user = request.user
    caller: Caller | None
    if isinstance(user, TokenUser):
        caller = token_caller(user.token)
    elif user is not None and user.is_authenticated:
        caller = caller_for_user(user, request.META.get(TENANT_HEADER))
        if caller is None:
            raise exceptions.PermissionDenied("You are not a member of this tenant.")
    else:
        raise exceptions.NotAuthenticated("Authentication credentials were not provided.")
    request._hatchet_caller = caller  # type: ignore[attr-defined]
    return caller


def tenant_of(request: Request) -> Tenant:
    return caller_of(request).tenant


WORKER_SCOPE_MESSAGE = (
    "A worker token may only connect to /ws/worker, register workflows "
    "(POST /api/v1/workflows) and read the workers it runs (GET /api/v1/workers); "
    "use a viewer, editor or admin token for the rest."
)


class IsTenantMember(permissions.BasePermission):
    """Reading needs any role and writing `editor`, unless the view sets `write_role`
    (for writes) or `required_role` (for everything). A worker token passes only the
    actions a view lists in `worker_actions`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = caller_of(request)
        if caller.role == TokenRole.WORKER:
            if getattr(view, "action", None) in getattr(view, "worker_actions", ()):
                return True
            raise Forbidden(WORKER_SCOPE_MESSAGE, {"role": TokenRole.WORKER})
        required = getattr(view, "required_role", None)
        if required is None:
            reading = request.method in permissions.SAFE_METHODS
            required = Role.VIEWER if reading else getattr(view, "write_role", Role.EDITOR)
        if not role_allows(caller.role, required):
            raise exceptions.PermissionDenied(f"This needs the {required} role.")
        return True


SUBPROTOCOL = "hatchet.v1"
TOKEN_SUBPROTOCOL_PREFIX = "hatchet.token."  # noqa: S105 (a prefix, not a secret)


def scope_secret(scope: dict[str, Any]) -> str | None:
    """The token a socket presents: in the Authorization header, or (for clients that
    cannot set headers) as the subprotocol `hatchet.token.<token>`; "" for one that is
    malformed. Never from the URL, which access logs and proxies record."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return bearer_secret(value.decode("latin-1")) or ""
    for subprotocol in scope.get("subprotocols", []):
        if subprotocol.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            return subprotocol.removeprefix(TOKEN_SUBPROTOCOL_PREFIX)
    return None


def token_in_url(scope: dict[str, Any]) -> bool:
    return "token" in parse_qs(scope.get("query_string", b"").decode("latin-1"))


def refusal_of(scope: dict[str, Any]) -> tuple[str, str]:
    """The error code and message for a socket refused for want of a caller."""
    if token_in_url(scope):
        return (
            "token_in_url",
            "A token in the URL (?token=) is refused: access logs and proxies record URLs. "
            "Send it in the Authorization header or as the subprotocol 'hatchet.token.<token>'.",
        )
    return "unauthorized", "Invalid or missing API token."


def origin_is_allowed(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            domain, _ = split_domain_port(urlparse(value.decode("latin-1")).netloc)
            return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
    return False


@database_sync_to_async
def caller_for_scope(scope: dict[str, Any]) -> Caller | None:
    if token_in_url(scope):
        return None
    secret = scope_secret(scope)
    if secret is not None:
        token = APIToken.authenticate(secret)
        return None if token is None else token_caller(token)
    user = scope.get("user")
    # A session cookie rides along with any page's socket: only our own pages count.
    if user is not None and user.is_authenticated and origin_is_allowed(scope):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return caller_for_user(user, query.get("tenant", [None])[0])
    return None


class CallerMiddleware:
    """Puts `caller` (or None) into the websocket scope; consumers refuse None."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        scope = dict(scope, caller=await caller_for_scope(scope))
        return await self.app(scope, receive, send)


def CallerMiddlewareStack(app: Any) -> Any:
    return AuthMiddlewareStack(CallerMiddleware(app))
