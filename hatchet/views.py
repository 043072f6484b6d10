"""The API's common view behaviour, the tokens resource and the health checks."""

import asyncio
import logging
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from hatchet.api import error_response
from hatchet.auth import caller_of, tenant_of
from hatchet.models import APIToken, Role

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


class JSONAPIView(APIView):
    """Base of every API view: JSON bodies only."""

    parser_classes = [parsers.JSONParser]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hatchet.auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token (hct_…)."}


class TokenSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.get_username", read_only=True, allow_null=True
    )

    class Meta:
        model = APIToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "created_by"]


class NewTokenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class IssuedTokenSerializer(serializers.ModelSerializer):
    token = serializers.SerializerMethodField(help_text="The secret; it is shown only this once.")

    class Meta:
        model = APIToken
        fields = ["id", "name", "prefix", "created_at", "token"]

    def get_token(self, token: APIToken) -> str:
        return self.context["secret"]


class TokenViewSet(
    JSONAPIView,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The tenant's active API tokens; each acts with the admin role."""

    queryset = APIToken.objects.active().select_related("created_by").order_by("-created_at")
    serializer_class = TokenSerializer
    lookup_value_converter = "uuid"
    required_role = Role.ADMIN

    def get_queryset(self) -> QuerySet[APIToken]:
        return super().get_queryset().filter(tenant=tenant_of(self.request))

    def get_serializer_class(self) -> type[BaseSerializer]:
        return NewTokenSerializer if self.action == "create" else TokenSerializer

    @extend_schema(request=NewTokenSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        new = NewTokenSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        caller = caller_of(request)
        # A token acting for the tenant is no person: it leaves created_by empty.
        created_by = request.user if caller.token is None else None
        token, secret = APIToken.issue(caller.tenant, new.validated_data["name"], created_by)
        issued = IssuedTokenSerializer(token, context={"secret": secret})
        return Response(issued.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.get_object().revoke()
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
