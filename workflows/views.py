"""The REST resources of workflows, workflow runs and step runs' lines."""

from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hatchet.auth import tenant_of
from hatchet.models import Tenant
from hatchet.views import JSONAPIView
from workflows.engine.definitions import register_workflow
from workflows.engine.runs import (
    RunRequest,
    cancel_workflow_run,
    trigger_workflow_run,
    trigger_workflow_runs,
)
from workflows.models import Step, StepRun, StepRunLine, Workflow, WorkflowRun, WorkflowVersion
from workflows.serializers import (
    BulkTriggeredSerializer,
    BulkTriggerSerializer,
    LineFilterSerializer,
    RegisteredWorkflowSerializer,
    RunDetailSerializer,
    RunFilterSerializer,
    RunSerializer,
    StepRunLineSerializer,
    StreamPageSerializer,
    TriggerRunSerializer,
    WorkflowDefinitionSerializer,
    WorkflowDetailSerializer,
    WorkflowSerializer,
)


def with_latest_version(workflows: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """Annotate each workflow with its latest version's number and step count."""
    latest = WorkflowVersion.objects.filter(workflow=OuterRef("pk")).order_by("-number")
    step_count = (
        Step.objects.filter(version=OuterRef("latest_version_pk"))
        .order_by()
        .values("version")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return workflows.annotate(
        latest_version_number=Subquery(latest.values("number")[:1]),
        latest_version_pk=Subquery(latest.values("pk")[:1]),
    ).annotate(step_count=Coalesce(Subquery(step_count), Value(0)))


def run_details(tenant: Tenant) -> QuerySet[WorkflowRun]:
    """The tenant's runs with everything the detail shows, in a fixed number of queries."""
    step_runs = (
        StepRun.objects.select_related("step")
        .prefetch_related("attempts")
        .order_by("step__position")
    )
    return (
        WorkflowRun.objects.filter(tenant=tenant)
        .select_related("workflow", "version")
        .prefetch_related(Prefetch("step_runs", queryset=step_runs))
    )


def run_detail_response(tenant: Tenant, run: WorkflowRun, status_code: int) -> Response:
    detail = run_details(tenant).get(pk=run.pk)
    return Response(RunDetailSerializer(detail).data, status=status_code)


class WorkflowViewSet(JSONAPIView, viewsets.GenericViewSet):
    queryset = Workflow.objects.all()
    lookup_field = "name"
    lookup_value_converter = "str"

    def get_queryset(self) -> QuerySet[Workflow]:
        workflows = super().get_queryset().filter(tenant=tenant_of(self.request))
        if self.action == "retrieve":
            versions = WorkflowVersion.objects.order_by("-number")
            return workflows.prefetch_related(Prefetch("versions", queryset=versions))
        return with_latest_version(workflows)

    @extend_schema(responses=WorkflowSerializer(many=True))
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WorkflowSerializer(page, many=True).data)

    @extend_schema(responses=WorkflowDetailSerializer)
    def retrieve(self, request: Request, name: str) -> Response:
        return Response(WorkflowDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=WorkflowDefinitionSerializer,
        responses={200: RegisteredWorkflowSerializer, 201: RegisteredWorkflowSerializer},
        description="Register a definition: 201 with a new version, 200 when unchanged.",
    )
    def create(self, request: Request) -> Response:
        version, created = register_workflow(tenant_of(request), request.data)
        body = RegisteredWorkflowSerializer(version, context={"created": created})
        return Response(
            body.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request=TriggerRunSerializer, responses={201: RunDetailSerializer})
    @action(detail=True, methods=["post"])
    def runs(self, request: Request, name: str) -> Response:
        """Trigger a run of the workflow's latest version."""
        body = TriggerRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = tenant_of(request)
        run = trigger_workflow_run(
            tenant,
            name,
            body.validated_data.get("input"),
            additional_metadata=body.validated_data.get("additional_metadata"),
            overrides=body.validated_data.get("overrides"),
        )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=BulkTriggerSerializer, responses={201: BulkTriggeredSerializer})
    @action(detail=True, methods=["post"], url_path="runs/bulk")
    def bulk_runs(self, request: Request, name: str) -> Response:
        """Trigger many runs of the workflow at once (all or none), in one transaction."""
        body = BulkTriggerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        runs = trigger_workflow_runs(
            tenant_of(request),
            name,
            [
                RunRequest(run.get("input"), run.get("additional_metadata"), run.get("overrides"))
                for run in body.validated_data["runs"]
            ],
        )
        return Response(
            BulkTriggeredSerializer({"runs": runs}).data, status=status.HTTP_201_CREATED
        )


class RunViewSet(JSONAPIView, viewsets.GenericViewSet):
    queryset = WorkflowRun.objects.all()
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[WorkflowRun]:
        tenant = tenant_of(self.request)
        if self.action == "list":
            runs = super().get_queryset().filter(tenant=tenant).select_related("workflow")
            # The id breaks ties so that pages never overlap.
            return runs.order_by("-created_at", "-id")
        return run_details(tenant)

    @extend_schema(parameters=[RunFilterSerializer], responses=RunSerializer(many=True))
    def list(self, request: Request) -> Response:
        filters = RunFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(filters.filter(self.get_queryset()))
        return self.get_paginated_response(RunSerializer(page, many=True).data)

    @extend_schema(responses=RunDetailSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(RunDetailSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=RunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any) -> Response:
        """Cancel the run; a finished run stays as it is."""
        tenant = tenant_of(request)
        run = cancel_workflow_run(tenant, pk)
        return run_detail_response(tenant, run, status.HTTP_200_OK)


class StepRunLinesView(JSONAPIView, generics.GenericAPIView):
    """Lines of one kind of a step run, oldest first, optionally of one attempt."""

    queryset = StepRun.objects.all()
    serializer_class = StepRunLineSerializer
    kind: StepRunLine.Kind

    def get_queryset(self) -> QuerySet[StepRun]:
        return super().get_queryset().filter(tenant=tenant_of(self.request))

    def requested_attempt(self) -> int | None:
        query = LineFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("attempt")

    def lines(self, step_run: StepRun, attempt: int | None) -> QuerySet[StepRunLine]:
        lines = StepRunLine.objects.filter(step_run=step_run, kind=self.kind)
        return lines if attempt is None else lines.filter(attempt=attempt)


class StepRunLogsView(StepRunLinesView):
    kind = StepRunLine.Kind.LOG

    @extend_schema(parameters=[LineFilterSerializer], responses=StepRunLineSerializer(many=True))
    def get(self, request: Request, pk: Any) -> Response:
        step_run = get_object_or_404(self.get_queryset(), pk=pk)
        page = self.paginate_queryset(self.lines(step_run, self.requested_attempt()))
        return self.get_paginated_response(StepRunLineSerializer(page, many=True).data)


class StepRunStreamView(StepRunLinesView):
    kind = StepRunLine.Kind.STREAM

    @extend_schema(parameters=[LineFilterSerializer], responses=StreamPageSerializer)
    def get(self, request: Request, pk: Any) -> Response:
        step_run = get_object_or_404(self.get_queryset(), pk=pk)
        attempt = self.requested_attempt()
        page = self.paginate_queryset(self.lines(step_run, attempt))
        response = self.get_paginated_response(StepRunLineSerializer(page, many=True).data)
        chunks = self.lines(step_run, attempt or step_run.attempt).values_list("text", flat=True)
        response.data["text"] = "".join(chunks)
        return response
