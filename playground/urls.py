"""Routes of the playground resources (under /api/v1/playground/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from playground.views import (
    ComparisonViewSet,
    DatasetViewSet,
    EvaluationViewSet,
    EvaluatorViewSet,
    GitHubConnectionView,
    GitHubWebhookView,
    PlaygroundRunViewSet,
    PullRequestViewSet,
    ThresholdViewSet,
    VariableViewSet,
    VariantViewSet,
)

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("variables", VariableViewSet, basename="playground-variable")
router.register("variants", VariantViewSet, basename="playground-variant")
router.register("runs", PlaygroundRunViewSet, basename="playground-run")
router.register("compare", ComparisonViewSet, basename="playground-comparison")
router.register("evaluators", EvaluatorViewSet, basename="playground-evaluator")
router.register("pull-requests", PullRequestViewSet, basename="playground-pull-request")
router.register("datasets", DatasetViewSet, basename="playground-dataset")
router.register("thresholds", ThresholdViewSet, basename="playground-threshold")
router.register("evaluations", EvaluationViewSet, basename="playground-evaluation")

urlpatterns = [
    *router.urls,
    path("github-connection", GitHubConnectionView.as_view(), name="playground-github-connection"),
    path("github/webhook", GitHubWebhookView.as_view(), name="playground-github-webhook"),
]
