"""The REST resource of the tenant's workers."""

from django.db.models import QuerySet
from rest_framework import mixins, viewsets

from hatchet.auth import tenant_of
from hatchet.views import JSONAPIView
from workers.models import Worker
from workers.registry import workers_with_slots
from workers.serializers import WorkerSerializer


class WorkerViewSet(
    JSONAPIView, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    # Names the model for the schema; get_queryset scopes it to the caller's tenant.
    queryset = Worker.objects.none()
    serializer_class = WorkerSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Worker]:
        return workers_with_slots(tenant_of(self.request))
