"""Routes of the alerts resources (under /api/v1/alerts/)."""

from rest_framework.routers import SimpleRouter

from alerts.views import AlertEventViewSet, AlertRuleViewSet

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("rules", AlertRuleViewSet, basename="alert-rule")
router.register("events", AlertEventViewSet, basename="alert-event")

urlpatterns = router.urls
