"""The REST resource of the tenant's workers."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from hatchet.api import QuerySerializer, validated
from hatchet.auth import caller_of
from hatchet.models import TokenRole
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
    # A worker host may look up the workers it runs, and only those.
    worker_actions = frozenset({"list", "retrieve"})

    def get_queryset(self) -> QuerySet[Worker]:
        caller = caller_of(self.request)
        workers = workers_with_slots(caller.tenant)
        if caller.role == TokenRole.WORKER:
            return workers.filter(token=caller.token)
        return workers

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        validated(QuerySerializer, request.query_params)
        return super().list(request, *args, **kwargs)
