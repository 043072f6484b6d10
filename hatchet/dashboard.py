"""Serves the dashboard, the single-page app built into `frontend/dist`: its hashed
assets, and its index page for every path the app routes itself."""

import mimetypes

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

NOT_BUILT = (
    "<!doctype html><title>Hatchet</title><h1>The dashboard is not built</h1>"
    "<p>Run <code>make dev</code>, or <code>npm --prefix frontend ci && npm --prefix frontend "
    "run build</code>. The API is at <a href='/api/docs/'>/api/docs/</a>.</p>"
)


@require_safe
def index(_request: HttpRequest) -> HttpResponse:
    page = settings.HATCHET_FRONTEND_DIR / "index.html"
    if not page.is_file():
        return HttpResponse(NOT_BUILT, status=503)
    response = HttpResponse(page.read_bytes(), content_type="text/html; charset=utf-8")
    # The page names the current assets; it must never be served from a stale cache.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def asset(_request: HttpRequest, path: str) -> HttpResponse:
    try:
        file = safe_join(settings.HATCHET_FRONTEND_DIR / "assets", path)
    except SuspiciousFileOperation:
        raise Http404(path) from None
    try:
        with open(file, "rb") as handle:
            body = handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404(path) from None
    content_type = mimetypes.guess_type(file)[0] or "application/octet-stream"
    response = HttpResponse(body, content_type=content_type)
    # Vite puts a content hash in every asset's name: a name never changes meaning.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
