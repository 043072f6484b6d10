"""The REST resources of workflows, workflow runs and step runs' lines."""

from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from hatchet.api import CappedCountPagination
from hatchet.auth import tenant_of
from hatchet.models import Role, Tenant
from hatchet.throttling import RateThrottle
from hatchet.views import JSONAPIView, TenantViewSet
from workflows.engine.bulk import cancel_matching, replay_matching
from workflows.engine.crons import create_cron, delete_cron, pause_cron, resume_cron
from workflows.engine.definitions import register_workflow
from workflows.engine.durable import skip_wait
from workflows.engine.events import replay_event
from workflows.engine.overview import overview
from workflows.engine.pausing import set_paused
from workflows.engine.rate_limits import delete_rate_limit, put_rate_limit
from workflows.engine.replays import replay_workflow_run
from workflows.engine.retention import set_retention_days
from workflows.engine.runs import (
    cancel_workflow_run,
    retry_workflow_run,
)
from workflows.engine.schedules import cancel_scheduled_run, reschedule_run, schedule_run
from workflows.handlers import push, trigger_run, trigger_runs
from workflows.models import (
    CronTrigger,
    Event,
    RateLimit,
    ScheduledRun,
    Step,
    StepRun,
    StepRunLine,
    Workflow,
    WorkflowRun,
    WorkflowVersion,
)
from workflows.serializers import (
    BulkCancelledSerializer,
    BulkReplayedSerializer,
    BulkTriggeredSerializer,
    BulkTriggerSerializer,
    CronDetailSerializer,
    CronFilterSerializer,
    CronSerializer,
    DurableWaitSerializer,
    EditRetentionSerializer,
    EventBatchSerializer,
    EventDetailSerializer,
    EventFilterSerializer,
    EventSerializer,
    LineFilterSerializer,
    NewCronSerializer,
    NewEventSerializer,
    NewScheduleSerializer,
    OverviewFilterSerializer,
    OverviewSerializer,
    PushedEventsSerializer,
    PutRateLimitSerializer,
    RateLimitFilterSerializer,
    RateLimitSerializer,
    RegisteredWorkflowSerializer,
    ReplayRunSerializer,
    RescheduleSerializer,
    RetentionSerializer,
    RunDetailSerializer,
    RunDetailWithWaitsSerializer,
    RunFilterSerializer,
    RunSerializer,
    ScheduleFilterSerializer,
    ScheduleSerializer,
    StartedRunSerializer,
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


@extend_schema_view(list=extend_schema(responses=WorkflowSerializer(many=True)))
class WorkflowViewSet(TenantViewSet):
    queryset = Workflow.objects.all()
    list_serializer_class = WorkflowSerializer
    lookup_field = "name"
    lookup_value_converter = "str"
    # A worker registers the definitions of the workflows it serves when it starts.
    worker_actions = frozenset({"create"})

    def get_queryset(self) -> QuerySet[Workflow]:
        workflows = super().get_queryset()
        if self.action == "retrieve":
            versions = WorkflowVersion.objects.order_by("-number")
            return workflows.prefetch_related(Prefetch("versions", queryset=versions))
        return with_latest_version(workflows)

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
        body = trigger_run(tenant_of(request), name, request.data)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=BulkTriggerSerializer, responses={201: BulkTriggeredSerializer})
    @action(detail=True, methods=["post"], url_path="runs/bulk")
    def bulk_runs(self, request: Request, name: str) -> Response:
        """Trigger many runs of the workflow at once (all or none), in one transaction."""
        body = trigger_runs(tenant_of(request), name, request.data)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=WorkflowSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, name: str) -> Response:
        """New runs wait (created, nothing queued) until a resume; running ones go on."""
        return self.paused_response(name, paused=True)

    @extend_schema(request=None, responses=WorkflowSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, name: str) -> Response:
        """The runs that waited go on, in the order they came."""
        return self.paused_response(name, paused=False)

    def paused_response(self, name: str, *, paused: bool) -> Response:
        set_paused(tenant_of(self.request), name, paused=paused)
        workflow = with_latest_version(self.get_queryset().filter(name=name)).get()
        return Response(WorkflowSerializer(workflow).data)


@extend_schema_view(
    list=extend_schema(parameters=[RunFilterSerializer], responses=RunSerializer(many=True))
)
class RunViewSet(TenantViewSet):
    queryset = WorkflowRun.objects.all()
    pagination_class = CappedCountPagination
    filter_class = RunFilterSerializer
    list_serializer_class = RunSerializer

    def get_queryset(self) -> QuerySet[WorkflowRun]:
        if self.action == "list":
            runs = super().get_queryset().select_related("workflow")
            # The id breaks ties so that pages never overlap.
            return runs.order_by("-created_at", "-id")
        return run_details(tenant_of(self.request))

    @extend_schema(responses=RunDetailWithWaitsSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(RunDetailWithWaitsSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="api_v1_runs_cancel_matching",
        request=None,
        parameters=[RunFilterSerializer],
        responses=BulkCancelledSerializer,
    )
    @action(detail=False, methods=["post"], url_path="cancel")
    def cancel_matching(self, request: Request) -> Response:
        """Cancel every unfinished run the filters (the list's) match, at most 10,000."""
        result = cancel_matching(self.matching())
        return Response(BulkCancelledSerializer(result).data)

    @extend_schema(
        operation_id="api_v1_runs_replay_matching",
        request=None,
        parameters=[RunFilterSerializer],
        responses={201: BulkReplayedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="replay")
    def replay_matching(self, request: Request) -> Response:
        """Replay every run the filters (the list's) match, at most 10,000: a new run of
        each, from its input, on its workflow's latest version."""
        result = replay_matching(tenant_of(request), self.matching())
        return Response(BulkReplayedSerializer(result).data, status=status.HTTP_201_CREATED)

    def matching(self) -> QuerySet[WorkflowRun]:
        filters = self.filter_class(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        runs = WorkflowRun.objects.filter(tenant=tenant_of(self.request))
        return filters.filter(runs, self.request.query_params)

    @extend_schema(request=None, responses=RunDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any) -> Response:
        """Cancel the run; a finished run stays as it is."""
        tenant = tenant_of(request)
        run = cancel_workflow_run(tenant, pk)
        return run_detail_response(tenant, run, status.HTTP_200_OK)

    @extend_schema(request=None, responses=RunDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: Any) -> Response:
        """Run a failed or cancelled run again, in place, from the steps that did not
        succeed."""
        tenant = tenant_of(request)
        run = retry_workflow_run(tenant, pk)
        return run_detail_response(tenant, run, status.HTTP_200_OK)

    @extend_schema(request=ReplayRunSerializer, responses={201: RunDetailSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: Any) -> Response:
        """A new run made from this one: whole, or from a step whose ancestors reuse this
        run's recorded outputs."""
        body = ReplayRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = tenant_of(request)
        run = replay_workflow_run(tenant, pk, **body.validated_data)
        return run_detail_response(tenant, run, status.HTTP_201_CREATED)


class StepRunSkipWaitView(JSONAPIView):
    @extend_schema(request=None, responses=DurableWaitSerializer)
    def post(self, request: Request, pk: Any) -> Response:
        """End a waiting durable step run's sleep now: the step goes on as if it had
        slept (409 if it is not sleeping; an event wait ends when its event is pushed)."""
        wait = skip_wait(tenant_of(request).pk, pk)
        return Response(DurableWaitSerializer(wait).data)


class OverviewView(JSONAPIView):
    @extend_schema(parameters=[OverviewFilterSerializer], responses=OverviewSerializer)
    def get(self, request: Request) -> Response:
        """The tenant's runs, failures, trigger-to-start latency and queue depth over a
        window, in 60 buckets, and what is queued, running and connected now."""
        query = OverviewFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = overview(tenant_of(request), query.validated_data["window"])
        return Response(OverviewSerializer(body).data)


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


class EventPushThrottle(RateThrottle):
    scope = "event_push"
    rate_name = "HATCHET_EVENT_PUSH_RATE"


@extend_schema_view(
    list=extend_schema(parameters=[EventFilterSerializer], responses=EventSerializer(many=True))
)
class EventViewSet(TenantViewSet):
    """The tenant's event log: push, list, detail with the runs started, replay."""

    queryset = Event.objects.all()
    pagination_class = CappedCountPagination
    filter_class = EventFilterSerializer
    list_serializer_class = EventSerializer

    def get_throttles(self) -> list[BaseThrottle]:
        return [EventPushThrottle()] if self.action == "create" else []

    def get_queryset(self) -> QuerySet[Event]:
        events = super().get_queryset()
        if self.action == "retrieve":
            runs = WorkflowRun.objects.select_related("workflow").order_by("created_at")
            return events.prefetch_related(Prefetch("runs", queryset=runs))
        return events.order_by("-created_at", "-id")

    @extend_schema(responses=EventDetailSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(EventDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=PolymorphicProxySerializer(
            "PushEvents", [NewEventSerializer, EventBatchSerializer], None
        ),
        responses={
            201: PolymorphicProxySerializer(
                "PushedEvent", [EventDetailSerializer, PushedEventsSerializer], None
            )
        },
        description="Push one event (201 with it and the runs it started), or a batch "
        'as {"events": [...]} (201 with {"events": [...]}); a batch is stored whole or '
        "not at all.",
    )
    def create(self, request: Request) -> Response:
        return Response(push(tenant_of(request), request.data), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: StartedRunSerializer(many=True)})
    @action(detail=True, methods=["post"], pagination_class=None)
    def replay(self, request: Request, pk: Any) -> Response:
        """Start the event's runs again, for the workflows that listen for it now."""
        runs = replay_event(tenant_of(request), pk)
        return Response(StartedRunSerializer(runs, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[CronFilterSerializer], responses=CronSerializer(many=True))
)
class CronViewSet(TenantViewSet):
    """Crons declared by workflows (on_crons) and created through the API."""

    queryset = CronTrigger.objects.select_related("workflow")
    filter_class = CronFilterSerializer
    list_serializer_class = CronSerializer

    def get_queryset(self) -> QuerySet[CronTrigger]:
        crons = super().get_queryset()
        if self.action == "list":
            return crons.order_by("workflow__name", "created_at", "id")
        return crons

    @extend_schema(responses=CronDetailSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(CronDetailSerializer(self.get_object()).data)

    @extend_schema(request=NewCronSerializer, responses={201: CronDetailSerializer})
    def create(self, request: Request) -> Response:
        body = NewCronSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        cron = create_cron(
            tenant_of(request),
            data["workflow"],
            data["expression"],
            name=data.get("name", ""),
            input=data.get("input"),
            additional_metadata=data.get("additional_metadata"),
            timezone_name=data.get("timezone", "UTC"),
        )
        return Response(CronDetailSerializer(cron).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        """Delete a cron created through the API; a declared one can only be paused."""
        delete_cron(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=CronDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: Any) -> Response:
        return Response(CronDetailSerializer(pause_cron(tenant_of(request), pk)).data)

    @extend_schema(request=None, responses=CronDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: Any) -> Response:
        """Fire again from the next time after now (what was missed is skipped)."""
        return Response(CronDetailSerializer(resume_cron(tenant_of(request), pk)).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[RateLimitFilterSerializer], responses=RateLimitSerializer(many=True)
    )
)
class RateLimitViewSet(TenantViewSet):
    """Named rate limits, and the dynamic ones steps created, with their current use.
    PUT-like create: posting a key that exists sets its limit and period."""

    queryset = RateLimit.objects.all()
    filter_class = RateLimitFilterSerializer
    serializer_class = RateLimitSerializer

    @extend_schema(responses=RateLimitSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(RateLimitSerializer(self.get_object()).data)

    @extend_schema(
        request=PutRateLimitSerializer,
        responses={200: RateLimitSerializer, 201: RateLimitSerializer},
    )
    def create(self, request: Request) -> Response:
        body = PutRateLimitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rate_limit, created = put_rate_limit(
            tenant_of(request).pk, data["key"], data["limit"], data["period"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(RateLimitSerializer(rate_limit).data, status=code)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        delete_rate_limit(tenant_of(request).pk, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        parameters=[ScheduleFilterSerializer], responses=ScheduleSerializer(many=True)
    )
)
class ScheduleViewSet(TenantViewSet):
    """One-off runs scheduled for later: create, list, reschedule, cancel."""

    queryset = ScheduledRun.objects.select_related("workflow").prefetch_related("runs")
    filter_class = ScheduleFilterSerializer
    list_serializer_class = ScheduleSerializer

    def get_queryset(self) -> QuerySet[ScheduledRun]:
        schedules = super().get_queryset()
        if self.action == "list":
            return schedules.order_by("trigger_at", "id")
        return schedules

    def detail_of(self, scheduled: ScheduledRun, status_code: int = 200) -> Response:
        scheduled = self.get_queryset().get(pk=scheduled.pk)
        return Response(ScheduleSerializer(scheduled).data, status=status_code)

    @extend_schema(responses=ScheduleSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(ScheduleSerializer(self.get_object()).data)

    @extend_schema(request=NewScheduleSerializer, responses={201: ScheduleSerializer})
    def create(self, request: Request) -> Response:
        body = NewScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        scheduled = schedule_run(
            tenant_of(request),
            data["workflow"],
            data["trigger_at"],
            input=data.get("input"),
            additional_metadata=data.get("additional_metadata"),
        )
        return self.detail_of(scheduled, status.HTTP_201_CREATED)

    @extend_schema(request=RescheduleSerializer, responses=ScheduleSerializer)
    def partial_update(self, request: Request, pk: Any) -> Response:
        """Reschedule: a new trigger_at, while it has not fired."""
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scheduled = reschedule_run(tenant_of(request), pk, body.validated_data["trigger_at"])
        return self.detail_of(scheduled)

    @extend_schema(request=None, responses=ScheduleSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any) -> Response:
        return self.detail_of(cancel_scheduled_run(tenant_of(request), pk))


class RetentionView(JSONAPIView):
    """How long the tenant's finished runs and events are kept: every member reads it,
    admins set it."""

    write_role = Role.ADMIN

    @extend_schema(responses=RetentionSerializer)
    def get(self, request: Request) -> Response:
        return Response(RetentionSerializer(tenant_of(request)).data)

    @extend_schema(request=EditRetentionSerializer, responses=RetentionSerializer)
    def put(self, request: Request) -> Response:
        body = EditRetentionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = set_retention_days(tenant_of(request), body.validated_data["days"])
        return Response(RetentionSerializer(tenant).data)
