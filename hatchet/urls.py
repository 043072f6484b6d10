"""The project's URLs: the API under /api/v1/, its schema and docs, health, admin, and
the dashboard at every other path."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from hatchet import dashboard
from hatchet.views import (
    InvitationViewSet,
    MemberViewSet,
    MyInvitationViewSet,
    SessionView,
    TokenViewSet,
    healthz,
    metrics,
    readyz,
)

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("tokens", TokenViewSet, basename="token")
router.register("members", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("session/invitations", MyInvitationViewSet, basename="my-invitation")

api_v1 = [
    path("session", SessionView.as_view(), name="session"),
    *router.urls,
    path("", include("workflows.urls")),
    path("", include("workers.urls")),
    path("playground/", include("playground.urls")),
    path("alerts/", include("alerts.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("assets/<path:path>", dashboard.asset, name="dashboard-asset"),
    # Every other path is a page of the dashboard, which routes it in the browser.
    re_path(r"^(?!api/|ws/|admin/|static/|assets/)", dashboard.index, name="dashboard"),
]


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "details": {}}}, status=status)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return json_error(404, "not_found", f"No API resource at {request.path}.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return json_error(500, "server_error", "The server failed; the error was logged.")
    return defaults.server_error(request)


handler404 = not_found
handler500 = server_error
