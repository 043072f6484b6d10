"""Websocket routes of every app (the wiring sees them all)."""

from django.urls import path, re_path

from playground.consumers import ComparisonConsumer, PullRequestConsumer
from workers.consumers import WorkerConsumer
from workflows.consumers import ClientConsumer, RunConsumer

websocket_urlpatterns = [
    path("ws/worker", WorkerConsumer.as_asgi()),
    path("ws/client", ClientConsumer.as_asgi()),
    re_path(r"^ws/runs/(?P<run_id>[0-9a-fA-F-]{36})$", RunConsumer.as_asgi()),
    re_path(
        r"^ws/playground/compare/(?P<comparison_id>[0-9a-fA-F-]{36})$",
        ComparisonConsumer.as_asgi(),
    ),
    re_path(
        r"^ws/playground/pull-requests/(?P<request_id>[0-9a-fA-F-]{36})$",
        PullRequestConsumer.as_asgi(),
    ),
]
