"""The REST resource of the tenant's workers."""

from django.db.models import QuerySet
from rest_framework import mixins

from hatchet.auth import caller_of
from hatchet.models import TokenRole
from hatchet.views import ListViewSet
from workers.models import Worker
from workers.registry import workers_with_slots
from workers.serializers import WorkerSerializer


class WorkerViewSet(ListViewSet, mixins.RetrieveModelMixin):
    # Names the model for the schema; get_queryset scopes it to the caller's tenant.
    queryset = Worker.objects.none()
    serializer_class = WorkerSerializer
    lookup_value_converter = "uuid"
    # A worker host may look up the workers it runs, and only those.
    worker_actions = frozenset({"list", "retrieve"})

    def get_queryset(self) -> QuerySet[Worker]:
        caller = caller_of(self.request)
        workers = workers_with_slots(caller.tenant)
        if caller.role == TokenRole.WORKER:
            return workers.filter(token=caller.token)
        return workers
