"""Refusals at the HTTP edge, before any view: a URL whose text no database stores
alike (NUL in a path segment or a query parameter answered 500 on PostgreSQL)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

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
