"""The API's common view behaviour, the session, tokens and members resources, and the
health checks."""

import asyncio
import io
import logging
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import (
    exceptions,
    mixins,
    permissions,
    serializers,
    status,
    viewsets,
)
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from hatchet.api import QuerySerializer, error_response
from hatchet.auth import TokenUser, caller_of, memberships_of, tenant_of
from hatchet.db import once_more_if_nothing_written
from hatchet.edge import JSONBodyParser
from hatchet.invitations import (
    accept_invitation,
    decline_invitation,
    invitations_for,
    invite,
    pending_invitations_of,
    revoke_invitation,
)
from hatchet.members import change_role, create_member, members_of, remove_member
from hatchet.metrics import metrics_response
from hatchet.models import APIToken, Invitation, Membership, Role
from hatchet.serializers import (
    InvitationSerializer,
    IssuedTokenSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    NewInvitationSerializer,
    NewMemberSerializer,
    NewTokenSerializer,
    ReceivedInvitationSerializer,
    SessionMembershipSerializer,
    SessionSerializer,
    SignInSerializer,
    TokenSerializer,
)
from hatchet.throttling import client_address, sign_in_wait
from hatchet.tokens import issue_token, revoke_token

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


class JSONAPIView(APIView):
    """Base of every API view: JSON bodies only. A request that failed on a lost
    database connection having changed nothing is served once more, on a new one."""

    parser_classes = [JSONBodyParser]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            body = request.body
        except RequestDataTooBig:
            # Refused by the JSON error handler as DRF reads it.
            return super().dispatch(request, *args, **kwargs)

        def rewind_body() -> None:
            request._stream = io.BytesIO(body)

        return once_more_if_nothing_written(
            lambda: super(JSONAPIView, self).dispatch(request, *args, **kwargs), rewind_body
        )


# Base of every resource with a list: it takes the query parameters `filter_class`
# validates and refuses any other, keeps the rows the filters name, and answers a page
# of them with `list_serializer_class` (else `serializer_class`). Comments, not
# docstrings, here and below: the schema describes a view without a docstring of its
# own with JSONAPIView's.
class ListViewSet(JSONAPIView, viewsets.GenericViewSet):
    filter_class: type[QuerySerializer] = QuerySerializer
    list_serializer_class: type[BaseSerializer[Any]] | None = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = self.filter_class(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(filters.filter(self.get_queryset(), request.query_params))
        serializer_class = self.list_serializer_class or self.get_serializer_class()
        # The filters in the context let one that shapes the rows (runs' `with_input`) act.
        rows = serializer_class(page, many=True, context={"filters": filters.validated_data})
        return self.get_paginated_response(rows.data)


# A resource of the caller's tenant: `queryset`'s rows of that tenant.
class TenantViewSet(ListViewSet):
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().filter(tenant=tenant_of(self.request))


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hatchet.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token (hct_…)."}


class TokenViewSet(mixins.DestroyModelMixin, TenantViewSet):
    """The tenant's active API tokens; each acts with its role. Admins manage them."""

    queryset = APIToken.objects.active().select_related("created_by").order_by("-created_at")
    serializer_class = TokenSerializer
    required_role = Role.ADMIN

    def get_serializer_class(self) -> type[BaseSerializer]:
        return NewTokenSerializer if self.action == "create" else TokenSerializer

    @extend_schema(request=NewTokenSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        new = NewTokenSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        caller = caller_of(request)
        # A token acting for the tenant is no person: it leaves created_by empty.
        created_by = request.user if caller.token is None else None
        token, secret = issue_token(
            caller.tenant,
            new.validated_data["name"],
            new.validated_data["role"],
            issuer_role=caller.role,
            created_by=created_by,
        )
        issued = IssuedTokenSerializer(token, context={"secret": secret})
        return Response(issued.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        revoke_token(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def session_response(request: Request, status_code: int = status.HTTP_200_OK) -> Response:
    user = request.user if request.user and request.user.is_authenticated else None
    memberships = list(memberships_of(user)) if user is not None else []
    body = SessionSerializer({"user": user, "memberships": memberships}).data
    return Response(body, status=status_code)


@method_decorator(ensure_csrf_cookie, name="dispatch")
class SessionView(JSONAPIView):
    """The dashboard's sign-in: who is signed in and in which tenants, with what role.
    Reading it also sets the CSRF cookie that every later write must echo."""

    authentication_classes = [SessionAuthentication]
    permission_classes = []

    @extend_schema(responses=SessionSerializer, auth=[])
    def get(self, request: Request) -> Response:
        return session_response(request)

    @extend_schema(request=SignInSerializer, responses=SessionSerializer, auth=[])
    def post(self, request: Request) -> Response:
        # DRF checks CSRF only for signed-in sessions; a forged sign-in must fail too.
        SessionAuthentication().enforce_csrf(request)
        credentials = SignInSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # Counted by the authentication backend; looked at here to answer 429.
        username = credentials.validated_data["username"]
        wait = sign_in_wait(username, client_address(request._request), count=False)
        if wait is not None:
            raise exceptions.Throttled(wait, "Too many sign-in attempts.")
        user = authenticate(request._request, **credentials.validated_data)
        if user is None or not user.is_active:
            return error_response(
                status.HTTP_400_BAD_REQUEST,
                "invalid_credentials",
                "The username or password is not right.",
            )
        login(request._request, user)
        request.user = user
        return session_response(request)

    @extend_schema(request=None, responses={204: None}, auth=[])
    def delete(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberViewSet(ListViewSet):
    """The tenant's members and roles; every member sees them, admins change them."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()
    lookup_value_converter = "int"
    write_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Membership]:
        return members_of(tenant_of(self.request))

    @extend_schema(request=NewMemberSerializer, responses={201: MemberSerializer})
    def create(self, request: Request) -> Response:
        """Create a new user as a member; people who have a user are invited."""
        new = NewMemberSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        membership = create_member(tenant_of(request), **new.validated_data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def partial_update(self, request: Request, pk: Any) -> Response:
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = change_role(tenant_of(request), pk, body.validated_data["role"])
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        remove_member(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.DestroyModelMixin, ListViewSet):
    """The tenant's pending invitations (admins). An invitation's answer says nothing of
    whom it names: whether they exist, their id or email."""

    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()
    lookup_value_converter = "uuid"
    required_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[Invitation]:
        return pending_invitations_of(tenant_of(self.request))

    @extend_schema(request=NewInvitationSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request) -> Response:
        new = NewInvitationSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        caller = caller_of(request)
        invited_by = request.user if caller.token is None else None
        invitation = invite(caller.tenant, **new.validated_data, invited_by=invited_by)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke a pending invitation."""
        revoke_invitation(tenant_of(request), kwargs["pk"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class IsPerson(permissions.BasePermission):
    """A signed-in person, not an API token."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Sign in first.")
        if isinstance(request.user, TokenUser):
            raise exceptions.PermissionDenied("Only the invited person answers an invitation.")
        return True


class MyInvitationViewSet(ListViewSet):
    """The signed-in person's pending invitations, to accept or decline; a user with no
    tenant yet sees them too."""

    permission_classes = [IsPerson]
    serializer_class = ReceivedInvitationSerializer
    queryset = Invitation.objects.none()
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Invitation]:
        return invitations_for(self.request.user)

    @extend_schema(request=None, responses=SessionMembershipSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: Any) -> Response:
        membership = accept_invitation(request.user, pk)
        return Response(SessionMembershipSerializer(membership).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: Any) -> Response:
        decline_invitation(request.user, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    responses=inline_serializer("Health", {"status": serializers.CharField()}),
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def healthz(request: Request) -> Response:
    """The process answers; touches neither the database nor the channel layer."""
    return Response({"status": "ok"})


@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def metrics(request: Request) -> HttpResponse | Response:
    """Prometheus's scrape (hatchet/metrics.py), with the metrics token."""
    return metrics_response(request)


def database_is_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("readyz: the database does not answer")
        return False


# One channel per event loop: a Redis layer keeps a subscription per channel and loop.
_ready_channels: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, str] = (
    weakref.WeakKeyDictionary()
)


async def channel_layer_round_trip() -> bool:
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(READY_TIMEOUT_SECONDS):
        if loop not in _ready_channels:
            _ready_channels[loop] = await layer.new_channel("readyz.")
        channel = _ready_channels[loop]
        await layer.send(channel, {"type": "readyz.ping"})
        message = await layer.receive(channel)
    return message == {"type": "readyz.ping"}


def channel_layer_is_ready() -> bool:
    # Any failure (timeout, refused connection, a broken layer) means not ready.
    try:
        return async_to_sync(channel_layer_round_trip)()
    except Exception:
        logger.exception("readyz: the channel layer round trip failed")
        return False


@extend_schema(
    responses={
        200: inline_serializer(
            "Readiness",
            {
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "channel_layer": serializers.CharField(),
            },
        ),
        503: inline_serializer(
            "NotReady",
            {
                "error": inline_serializer(
                    "NotReadyError",
                    {
                        "code": serializers.CharField(),
                        "message": serializers.CharField(),
                        "details": serializers.DictField(child=serializers.CharField()),
                    },
                )
            },
        ),
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def readyz(request: Request) -> Response:
    """Ready when the database answers and a message crosses the channel layer."""
    parts = {
        "database": "ok" if database_is_ready() else "failed",
        "channel_layer": "ok" if channel_layer_is_ready() else "failed",
    }
    failed = [part for part, state in parts.items() if state != "ok"]
    if failed:
        return error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "not_ready",
            f"Not ready: {', '.join(failed)} failed.",
            parts,
        )
    return Response({"status": "ready", **parts})
