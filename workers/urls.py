"""Routes of the workers resource (under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from workers.views import WorkerViewSet

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("workers", WorkerViewSet, basename="worker")

urlpatterns = router.urls
