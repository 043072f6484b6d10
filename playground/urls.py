"""Routes of the playground resources (under /api/v1/playground/)."""

from rest_framework.routers import SimpleRouter

from playground.views import (
    ComparisonViewSet,
    PlaygroundRunViewSet,
    VariableViewSet,
    VariantViewSet,
)

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("variables", VariableViewSet, basename="playground-variable")
router.register("variants", VariantViewSet, basename="playground-variant")
router.register("runs", PlaygroundRunViewSet, basename="playground-run")
router.register("compare", ComparisonViewSet, basename="playground-comparison")

urlpatterns = router.urls
