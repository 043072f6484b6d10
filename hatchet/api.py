"""The REST API's shared pieces: the JSON error shape, pagination and serializers
built once per thread."""

import re
import threading
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler

from hatchet.edge import RefusedJSON
from hatchet.errors import ServiceError

S = TypeVar("S", bound=serializers.BaseSerializer[Any])
M = TypeVar("M", bound=Model)
METADATA_PARAMETER = re.compile(r"metadata\[(.+)\]")

CODES_BY_STATUS = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def error_response(
    status_code: int, code: str, message: str, details: Any = None, headers: Any = None
) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(body, status=status_code, headers=headers)


def first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            text = first_message(value)
            return text if field == "non_field_errors" else f"{field}: {text}"
    if isinstance(detail, list) and detail:
        return first_message(detail[0])
    return str(detail)


def json_error_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error leaves as {"error": {"code", "message", "details"}}."""
    if isinstance(exc, ServiceError):
        return error_response(exc.status, exc.code, exc.message, exc.details)
    if isinstance(exc, RequestDataTooBig):
        # Django would answer with a 400 page.
        return error_response(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"The request body is larger than {settings.HATCHET_MAX_MESSAGE_BYTES} bytes.",
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = CODES_BY_STATUS.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            status.HTTP_400_BAD_REQUEST, "invalid_request", first_message(exc.detail), exc.detail
        )
    if isinstance(exc, RefusedJSON):
        return error_response(exc.status_code, exc.code, str(exc.detail), exc.details)
    if isinstance(exc, exceptions.ParseError):
        code = "malformed_json"
    headers = {k: v for k, v in response.items() if k in {"WWW-Authenticate", "Retry-After"}}
    return error_response(response.status_code, code, first_message(exc.detail), None, headers)


_this_thread = threading.local()


def thread_serializer(serializer_class: type[S]) -> S:
    """The thread's serializer of the class, built on first use: DRF copies and builds
    every field again for each new serializer (~0.6 ms for a run's detail, ten times
    the representation itself), and a built one's fields are not safe to share
    between threads."""
    serializers_by_class: dict[type[Any], Any] = _this_thread.__dict__.setdefault("serializers", {})
    serializer = serializers_by_class.get(serializer_class)
    if serializer is None:
        serializer = serializers_by_class[serializer_class] = serializer_class()
    return cast(S, serializer)


def represent(serializer_class: type[serializers.BaseSerializer[Any]], instance: Any) -> Any:
    """What `serializer_class(instance).data` holds."""
    return thread_serializer(serializer_class).to_representation(instance)


def validated(serializer_class: type[serializers.BaseSerializer[Any]], data: Any) -> Any:
    """What `serializer_class(data=data)` validates to; raises the ValidationError that
    its `is_valid` raises."""
    try:
        return thread_serializer(serializer_class).run_validation(data)
    except exceptions.ValidationError:
        # Rare, so a new serializer shapes the errors exactly as is_valid does.
        serializer_class(data=data).is_valid(raise_exception=True)
        raise


PAGE_PARAMETERS = {"limit", "offset"}


class StringField(serializers.CharField):
    """A string the schema calls a string: DRF's CharField also takes a number and
    makes it one, which the schema does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class QuerySerializer(serializers.Serializer):
    """A list's query parameters: a name it does not know is refused (a misspelt filter
    would return everything), and so is a blank value (DRF reads `workflow=` from a
    query string as absent, where the schema says a name is at least one character).
    `metadata[name]` parameters are taken when the serializer has a `metadata` field.
    Text is taken as it is, untrimmed: a value of spaces, which the schema allows, is a
    value (DRF would trim it to blank, and refuse it)."""

    # The page's parameters, taken beside the fields; none for an answer not paged.
    page_parameters = PAGE_PARAMETERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, serializers.CharField):
                field.trim_whitespace = False

    def to_internal_value(self, data: Any) -> Any:
        known = set(self.fields) | self.page_parameters
        unknown = sorted(
            name
            for name in data
            if name not in known
            and not ("metadata" in self.fields and METADATA_PARAMETER.fullmatch(name))
        )
        if unknown:
            raise exceptions.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}
            )
        blank = [str(name) for name in self.fields if data.get(name) == ""]
        if blank:
            raise exceptions.ValidationError({name: ["May not be blank."] for name in blank})
        return super().to_internal_value(data)

    # Where a `workflow` filter finds the workflow's name, from the listed model.
    workflow_name_field = "workflow__name"

    def of_workflow(self, rows: QuerySet[M]) -> QuerySet[M]:
        """The rows of the workflow the `workflow` filter names, if it names one."""
        if "workflow" not in self.validated_data:
            return rows
        return rows.filter(**{self.workflow_name_field: self.validated_data["workflow"]})

    def filter(self, rows: QuerySet[M], _query: Any) -> QuerySet[M]:
        """The rows the validated filters keep: the workflow's, and each other filter
        as the lookup of its name. `query` is the raw query, for filters it has more
        of than the fields say (metadata)."""
        lookups = {name: value for name, value in self.validated_data.items() if name != "workflow"}
        return self.of_workflow(rows).filter(**lookups)


class Pagination(pagination.LimitOffsetPagination):
    """limit and offset as the schema states them: a limit from 1 to max_limit and an
    offset from 0, else 400 (DRF's silently took `limit=garbage` as the default)."""

    default_limit = 50
    max_limit = 500

    def bounds(self) -> dict[str, tuple[int, int | None]]:
        return {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, None)}

    def integer(self, request: Any, name: str, default: int) -> int:
        minimum, maximum = self.bounds()[name]
        text = request.query_params.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            within = f"from {minimum} to {maximum}" if maximum else f"of at least {minimum}"
            raise exceptions.ValidationError({name: [f"Must be an integer {within}."]})
        return value

    def get_limit(self, request: Any) -> int:
        return self.integer(request, self.limit_query_param, self.default_limit)

    def get_offset(self, request: Any) -> int:
        return self.integer(request, self.offset_query_param, 0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            minimum, maximum = self.bounds()[parameter["name"]]
            parameter["schema"]["minimum"] = minimum
            if maximum is not None:
                parameter["schema"]["maximum"] = maximum
        return parameters


class CappedCountPagination(Pagination):
    """Pages of a table that keeps growing (runs, events), whose count stops at
    COUNT_LIMIT: an exact count reads an index entry for every row of the tenant (0.76 s
    of the runs list's 0.81 s with ten million runs, bench/README), and no one pages
    through ten thousand rows. Beyond it `count` is COUNT_LIMIT and `count_capped` true;
    `next` comes from reading one row past the page either way."""

    COUNT_LIMIT = 10_000

    def paginate_queryset(
        self,
        queryset: Any,
        request: Any,
        view: Any = None,  # noqa: ARG002  (DRF passes it by name)
    ) -> list[Any]:
        self.request = request
        self.limit = limit = self.get_limit(request)
        self.offset = offset = self.get_offset(request)
        counted = queryset[: self.COUNT_LIMIT + 1].count()
        self.count_capped = counted > self.COUNT_LIMIT
        self.count = min(counted, self.COUNT_LIMIT)
        rows = list(queryset[offset : offset + limit + 1])
        self.next_offset = offset + limit if len(rows) > limit else None
        return rows[:limit]

    def get_next_link(self) -> str | None:
        if self.next_offset is None or self.request is None:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return str(replace_query_param(url, self.offset_query_param, self.next_offset))

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "count": self.count,
                "count_capped": self.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated: dict[str, Any] = super().get_paginated_response_schema(schema)
        paginated["required"] = [*paginated["required"], "count_capped"]
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"Whether there are more than `count` ({self.COUNT_LIMIT:,}) rows.",
        }
        return paginated
