"""Routes of the workflows, runs and step-runs resources (under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.views import RunViewSet, StepRunLogsView, StepRunStreamView, WorkflowViewSet

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("runs", RunViewSet, basename="run")

urlpatterns = [
    *router.urls,
    path("step-runs/<uuid:pk>/logs", StepRunLogsView.as_view(), name="step-run-logs"),
    path("step-runs/<uuid:pk>/stream", StepRunStreamView.as_view(), name="step-run-stream"),
]
