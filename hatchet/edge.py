"""The HTTP edge, before any view's own work: a URL whose text no database stores
alike is refused (NUL in a path segment or a query parameter answered 500 on
PostgreSQL), bodies are read by our JSON rules, OPTIONS is answered. DRF's settings
name these classes, so this module imports none of DRF's views."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, metadata, parsers
from typing_extensions import override

from hatchet import jsontext
from hatchet.jsontext import JSONInputError, check_text


class RefuseUnstorableURLs:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_text(request.path, "the URL path")
            for name, values in request.GET.lists():
                check_text(name, "a query parameter's name")
                for value in values:
                    check_text(value, f"the query parameter {name}")
        except JSONInputError as refused:
            body = {
                "error": {
                    "code": refused.code,
                    "message": refused.message,
                    "details": {"path": refused.path},
                }
            }
            return JsonResponse(body, status=400)
        return self.get_response(request)


class RefusedJSON(exceptions.ParseError):
    """A request body that is not JSON we take (hatchet/jsontext.py)."""

    def __init__(self, refused: jsontext.JSONInputError) -> None:
        super().__init__(refused.message, refused.code)
        self.code = refused.code
        self.details = {"path": refused.path} if refused.path else {}


class JSONBodyParser(parsers.JSONParser):
    """DRF's JSON parser with our rules: a bounded depth, no NUL or lone surrogate."""

    @override
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            text = stream.read().decode((parser_context or {}).get("encoding", "utf-8"))
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                f"The body is not UTF-8: {exc}.", "malformed_json"
            ) from None
        try:
            return jsontext.load(text)
        except jsontext.JSONInputError as refused:
            raise RefusedJSON(refused) from None


class ResourceMetadata(metadata.SimpleMetadata):
    """OPTIONS answers: the resource's name, description and media types. DRF's would
    also describe each write's serializer, and views whose bodies are read by the
    engine (an action's, the runs trigger's) have none: it answered 500 there."""

    @override
    def determine_metadata(self, request: Any, view: Any) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
