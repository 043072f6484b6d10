"""Routes of the workflows, runs, step-runs, events, crons, schedules, rate-limits and
retention resources, and the overview (under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.views import (
    CronViewSet,
    EventViewSet,
    OverviewView,
    RateLimitViewSet,
    RetentionView,
    RunViewSet,
    ScheduleViewSet,
    StepRunLogsView,
    StepRunSkipWaitView,
    StepRunStreamView,
    WorkflowViewSet,
)

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("runs", RunViewSet, basename="run")
router.register("events", EventViewSet, basename="event")
router.register("crons", CronViewSet, basename="cron")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("rate-limits", RateLimitViewSet, basename="rate-limit")

urlpatterns = [
    *router.urls,
    path("overview", OverviewView.as_view(), name="overview"),
    path("step-runs/<uuid:pk>/logs", StepRunLogsView.as_view(), name="step-run-logs"),
    path("step-runs/<uuid:pk>/stream", StepRunStreamView.as_view(), name="step-run-stream"),
    path("step-runs/<uuid:pk>/skip-wait", StepRunSkipWaitView.as_view(), name="step-run-skip-wait"),
    path("retention", RetentionView.as_view(), name="retention"),
]
