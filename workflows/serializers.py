"""How workflows, runs, step runs and their lines look in the REST API."""

import json
import re
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Count, Model, QuerySet, TextChoices
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList
from typing_extensions import override

from hatchet.api import METADATA_PARAMETER, QuerySerializer
from hatchet.models import Tenant
from workflows.engine.concurrency import MAX_RUNS, STRATEGIES
from workflows.engine.definitions import MAX_STEPS
from workflows.engine.durable import waits_of
from workflows.engine.idempotency import MAX_KEY_LENGTH as MAX_IDEMPOTENCY_KEY
from workflows.engine.overview import DEFAULT_WINDOW, WINDOWS
from workflows.engine.rate_limits import MAX_KEY_LENGTH as MAX_RATE_LIMIT_KEY
from workflows.engine.rate_limits import MAX_LIMIT as MAX_RATE_LIMIT
from workflows.engine.rate_limits import current_use
from workflows.engine.retention import MAX_RETENTION_DAYS
from workflows.engine.waits import run_waiting_reason, step_waiting_reasons
from workflows.models import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    CronTrigger,
    DurableWait,
    Event,
    RateLimit,
    RateLimitPeriod,
    ScheduledRun,
    ScheduledRunStatus,
    Step,
    StepRun,
    StepRunAttempt,
    StepRunLine,
    StepRunStatus,
    Workflow,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowVersion,
)

RECENT_RUNS = 10


class StatusField(serializers.ChoiceField):
    """A status documented as one named enum, whichever resource shows it."""

    def __init__(self, choices: type[TextChoices], **kwargs: Any) -> None:
        self.enum = choices
        super().__init__(choices=choices.choices, **kwargs)


class StatusFieldExtension(OpenApiSerializerFieldExtension):
    # Without a name of its own, each status enum would be named after the field
    # ("status") and drf-spectacular would have to guess between the choice sets.
    target_class = StatusField

    def get_name(self) -> str:
        return f"{self.target.enum.__name__}Enum"

    @override
    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.target.enum.values)}


class BackoffSerializer(serializers.Serializer):
    initial_seconds = serializers.FloatField(source="backoff_initial_seconds")
    factor = serializers.FloatField(source="backoff_factor")
    max_seconds = serializers.FloatField(source="backoff_max_seconds")


class StepSerializer(serializers.ModelSerializer):
    parents = serializers.ListField(child=serializers.CharField())
    backoff = BackoffSerializer(source="*")
    rate_limits = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()),
        help_text="The units of rate limits each attempt takes (docs/protocol.md).",
    )
    desired_worker_labels = serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField()),
        help_text="What it requires or prefers of a worker's labels, by label.",
    )
    concurrency = serializers.DictField(
        child=serializers.JSONField(),
        allow_null=True,
        help_text="Its own concurrency limit per key; null without one.",
    )
    sticky = serializers.CharField(help_text="'soft', 'hard', or blank.")

    class Meta:
        model = Step
        fields = [
            "name",
            "action",
            "parents",
            "timeout_seconds",
            "schedule_timeout_seconds",
            "retries",
            "backoff",
            "is_on_failure",
            "rate_limits",
            "desired_worker_labels",
            "concurrency",
            "sticky",
        ]


class WorkflowVersionSerializer(serializers.ModelSerializer):
    definition = serializers.DictField(child=serializers.JSONField())

    class Meta:
        model = WorkflowVersion
        fields = ["number", "checksum", "created_at", "definition"]


class TriggersSerializer(serializers.Serializer):
    on_events = serializers.ListField(child=serializers.CharField())
    on_crons = serializers.ListField(child=serializers.CharField())


class RecentRunSerializer(serializers.ModelSerializer):
    status = StatusField(WorkflowRunStatus)

    class Meta:
        model = WorkflowRun
        fields = ["id", "status", "created_at"]


class WorkflowSerializer(serializers.ModelSerializer):
    """A workflow in a list; expects the annotations of `with_latest_version`."""

    latest_version = serializers.IntegerField(source="latest_version_number", allow_null=True)
    step_count = serializers.IntegerField(help_text="Steps of the latest version.")

    class Meta:
        model = Workflow
        fields = ["name", "id", "latest_version", "created_at", "step_count", "is_paused"]


class WorkflowDetailSerializer(serializers.ModelSerializer):
    """A workflow with its versions (newest first) and its latest version's shape."""

    latest_version = serializers.SerializerMethodField()
    versions = WorkflowVersionSerializer(many=True)
    steps = serializers.SerializerMethodField()
    triggers = serializers.SerializerMethodField()
    recent_runs = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = [
            "name",
            "id",
            "created_at",
            "is_paused",
            "latest_version",
            "versions",
            "steps",
            "triggers",
            "recent_runs",
        ]

    def latest(self, workflow: Workflow) -> WorkflowVersion | None:
        # `versions` is prefetched newest first, so the latest costs no query.
        versions = list(workflow.versions.all())
        return versions[0] if versions else None

    def get_latest_version(self, workflow: Workflow) -> int | None:
        latest = self.latest(workflow)
        return None if latest is None else latest.number

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, workflow: Workflow) -> ReturnList:
        latest = self.latest(workflow)
        steps: QuerySet[Step] = Step.objects.none() if latest is None else latest.steps.all()
        return serializers.ListSerializer(steps, child=StepSerializer()).data

    @extend_schema_field(TriggersSerializer)
    def get_triggers(self, workflow: Workflow) -> ReturnDict:
        latest = self.latest(workflow)
        definition = {} if latest is None else latest.definition
        return TriggersSerializer(
            {
                "on_events": definition.get("on_events", []),
                "on_crons": definition.get("on_crons", []),
            }
        ).data

    @extend_schema_field(RecentRunSerializer(many=True))
    def get_recent_runs(self, workflow: Workflow) -> ReturnList:
        runs = workflow.runs.order_by("-created_at")[:RECENT_RUNS]
        return serializers.ListSerializer(runs, child=RecentRunSerializer()).data


class BackoffDefinitionSerializer(serializers.Serializer):
    refuses_unknown_fields = True  # the engine refuses them (definitions.py)
    initial = serializers.CharField(required=False, help_text="A duration such as '1s'.")
    factor = serializers.FloatField(required=False, min_value=1, max_value=10)
    max = serializers.CharField(required=False, help_text="A duration such as '60s'.")


class StepDefinitionSerializer(serializers.Serializer):
    refuses_unknown_fields = True
    name = serializers.CharField()
    parents = serializers.ListField(child=serializers.CharField(), required=False)
    timeout = serializers.CharField(required=False, help_text="A duration such as '30s'.")
    schedule_timeout = serializers.CharField(required=False)
    retries = serializers.IntegerField(required=False, min_value=0)
    backoff = BackoffDefinitionSerializer(required=False)
    on_failure = serializers.BooleanField(
        required=False,
        help_text="Run this step (no parents) only when another fails for good, "
        "before the run fails.",
    )


class BulkCancelledSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Runs the filters matched.")
    cancelled = serializers.IntegerField(help_text="Those of them that had not finished.")


class BulkReplayedSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Runs the filters matched.")
    replayed = serializers.IntegerField(help_text="New runs made, one per match.")


class ConcurrencyDefinitionSerializer(serializers.Serializer):
    refuses_unknown_fields = True  # the engine refuses them (concurrency.py)
    key = serializers.CharField(
        help_text="A path into each run's input or metadata: 'input.customer_id'."
    )
    max_runs = serializers.IntegerField(required=False, min_value=1, max_value=MAX_RUNS)
    strategy = serializers.ChoiceField(choices=STRATEGIES, required=False)
    scope = serializers.CharField(
        required=False, help_text="Workflows naming the same scope share the limit per key."
    )


class WorkflowDefinitionSerializer(serializers.Serializer):
    """The definition a worker registers (docs/protocol.md); documents the request body
    only: the engine validates it and names the first problem."""

    refuses_unknown_fields = True
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    on_events = serializers.ListField(child=serializers.CharField(), required=False)
    on_crons = serializers.ListField(child=serializers.CharField(), required=False)
    timeout = serializers.CharField(required=False, help_text="A duration such as '10m'.")
    schedule_timeout = serializers.CharField(required=False)
    priority = serializers.IntegerField(
        required=False,
        min_value=DEFAULT_PRIORITY,
        max_value=MAX_PRIORITY,
        help_text="Its runs' priority unless a trigger names one.",
    )
    concurrency = ConcurrencyDefinitionSerializer(required=False)
    steps = serializers.ListField(
        child=StepDefinitionSerializer(), min_length=1, max_length=MAX_STEPS
    )


class RegisteredWorkflowSerializer(serializers.Serializer):
    """A registered version; `created` comes from the context."""

    workflow = serializers.CharField(source="workflow.name")
    id = serializers.UUIDField(source="workflow.id", help_text="The workflow's id.")
    version = serializers.IntegerField(source="number")
    created = serializers.SerializerMethodField(
        help_text="False when this definition was already registered."
    )
    checksum = serializers.CharField()

    def get_created(self, _version: WorkflowVersion) -> bool:
        return self.context["created"]


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a misspelt one is not silently dropped."""

    refuses_unknown_fields = True

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                message = f"Unknown field(s): {', '.join(unknown)}."
                raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]})
        return super().to_internal_value(data)


class TriggerRunSerializer(StrictSerializer):
    input = serializers.DictField(child=serializers.JSONField(), required=False)
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)
    overrides = serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField()),
        required=False,
        help_text="Playground values by step name: {step: {variable: value}}.",
    )
    priority = serializers.IntegerField(
        required=False,
        min_value=DEFAULT_PRIORITY,
        max_value=MAX_PRIORITY,
        help_text=f"{DEFAULT_PRIORITY} to {MAX_PRIORITY} (the most urgent); the workflow's "
        "by default.",
    )
    idempotency_key = serializers.CharField(
        required=False,
        max_length=MAX_IDEMPOTENCY_KEY,
        trim_whitespace=False,
        help_text="A trigger naming a key used within HATCHET_IDEMPOTENCY_WINDOW (24 h) is "
        "answered with the run that key started, instead of a new one.",
    )


class ReplayRunSerializer(StrictSerializer):
    from_step = serializers.CharField(
        required=False,
        help_text="Run from this step; the steps before it reuse the source run's outputs.",
    )
    input = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="A new input (whole replays only); the source run's input by default.",
    )
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)
    overrides = serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField()),
        required=False,
        help_text="Playground values by step name; the source run's overrides by default.",
    )


MAX_BULK_RUNS = 1000


class BulkTriggerSerializer(StrictSerializer):
    runs = serializers.ListField(
        child=TriggerRunSerializer(), min_length=1, max_length=MAX_BULK_RUNS
    )


class TriggeredRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkflowRun
        fields = ["id", "status", "created_at"]


class BulkTriggeredSerializer(serializers.Serializer):
    runs = TriggeredRunSerializer(many=True)


M = TypeVar("M", bound=Model)


METADATA_PAIR = r"^[^:]+:"


class MetadataFilterSerializer(QuerySerializer):
    """Filters rows by their `additional_metadata`."""

    metadata = serializers.ListField(
        # Untrimmed: a name the pattern (and so the schema) accepts is not cut to one
        # it refuses.
        child=serializers.RegexField(
            METADATA_PAIR,
            trim_whitespace=False,
            error_messages={"invalid": "Use metadata=name:value."},
        ),
        required=False,
        help_text="'name:value', repeatable (all must match); `metadata[name]=value` too.",
    )

    def validate_metadata(self, value: list[str]) -> list[tuple[str, str]]:
        pairs = [item.split(":", 1) for item in value]
        return [(name, text) for name, text in pairs]

    def filter_metadata(self, rows: QuerySet[M], query: Any) -> QuerySet[M]:
        metadata = list(self.validated_data.get("metadata", []))
        for param, value in query.items():
            bracketed = METADATA_PARAMETER.fullmatch(param)
            if bracketed:
                metadata.append((bracketed.group(1), value))
        for i, (name, value) in enumerate(metadata):
            # KeyTransform takes any name, where `additional_metadata__{name}` would read
            # '__' or a lookup's name ("contains") as part of the query.
            alias = f"metadata_{i}"
            rows = rows.alias(**{alias: KeyTransform(name, "additional_metadata")})
            rows = rows.filter(**{alias: value})
        return rows


# Any case: JSON Schema's patterns have no flag for it.
RUN_STATUSES = "|".join(
    "".join(f"[{c}{c.lower()}]" for c in status) for status in WorkflowRunStatus.values
)


# The kinds of start a run records in `trigger`: the engine's, and "playground" for the
# playground's own runs (set by that app, which this one does not import).
RUN_TRIGGERS = ["api", "cron", "evaluator", "event", "playground", "replay", "schedule", "spawn"]


def trigger_field(help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        RUN_TRIGGERS,
        required=False,
        error_messages={"invalid_choice": f"Use one of {', '.join(RUN_TRIGGERS)}."},
        help_text=help_text,
    )


class RunFilterSerializer(MetadataFilterSerializer):
    status = serializers.RegexField(
        rf"^({RUN_STATUSES})(,({RUN_STATUSES}))*$",
        required=False,
        error_messages={
            "invalid": f"Use {', '.join(WorkflowRunStatus.values)}, or several separated by commas."
        },
        help_text="One status or several separated by commas.",
    )
    workflow = serializers.CharField(required=False, help_text="A workflow name.")
    created_after = serializers.DateTimeField(
        required=False, help_text="Runs created at or after this ISO 8601 time."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="Runs created before this ISO 8601 time."
    )
    event = serializers.UUIDField(required=False, help_text="Runs this event started.")
    trigger = trigger_field("Runs started this way.")
    exclude_trigger = trigger_field(
        "Runs not started this way: `playground` leaves out the playground's own runs."
    )
    parent_run = serializers.UUIDField(
        required=False, help_text="The child runs that this run's steps spawned."
    )
    with_input = serializers.BooleanField(
        required=False, default=False, help_text="Each run with its `input` too."
    )

    def validate_status(self, value: str) -> list[str]:
        return value.upper().split(",")

    def filter(self, rows: QuerySet[M], query: Any) -> QuerySet[M]:
        filters = self.validated_data
        runs = self.of_workflow(rows)
        if filters.get("status"):
            runs = runs.filter(status__in=filters["status"])
        if "created_after" in filters:
            runs = runs.filter(created_at__gte=filters["created_after"])
        if "created_before" in filters:
            runs = runs.filter(created_at__lt=filters["created_before"])
        if "event" in filters:
            runs = runs.filter(event_id=filters["event"])
        if "trigger" in filters:
            runs = runs.filter(trigger=filters["trigger"])
        if "exclude_trigger" in filters:
            runs = runs.exclude(trigger=filters["exclude_trigger"])
        if "parent_run" in filters:
            runs = runs.filter(parent_step_run__workflow_run_id=filters["parent_run"])
        return self.filter_metadata(runs, query)


INPUT_SUMMARY_CHARACTERS = 80
# Encodes lazily (iterencode without the C one-shot path), so that a summary of a large
# input encodes only its start.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def input_summary(value: Any, limit: int = INPUT_SUMMARY_CHARACTERS) -> str:
    """A run's input in one line of at most `limit` characters: its first string field,
    else its compact JSON; whitespace runs read as one space, and a cut ends in "…"."""
    first_string = (
        next((field for field in value.values() if isinstance(field, str)), None)
        if isinstance(value, dict)
        else None
    )
    if first_string is not None:
        # Whitespace-heavy text may shrink a lot once collapsed: take a generous start.
        text = " ".join(first_string[: limit * 4].split())
    else:
        text = ""
        for chunk in COMPACT_JSON.iterencode(value):
            text += chunk
            if len(text) > limit:
                break
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class RunSerializer(serializers.ModelSerializer):
    """A workflow run in a list; expects `workflow` selected with it. A list leaves out
    `input` (it can be large) unless its filters ask for it with `with_input`."""

    workflow = serializers.CharField(source="workflow.name")
    status = StatusField(WorkflowRunStatus)
    additional_metadata = serializers.DictField(child=serializers.JSONField())
    input = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Only with `with_input=true`."
    )
    input_summary = serializers.SerializerMethodField(
        help_text=(
            f"The input's first string field (in the order the database keeps the fields), "
            f"else its compact JSON, in at most {INPUT_SUMMARY_CHARACTERS} characters."
        )
    )

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflow",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "trigger",
            "priority",
            "waiting_for",
            "concurrency_key",
            "event",
            "fire_time",
            "additional_metadata",
            "input_summary",
            "input",
        ]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        filters = self.context.get("filters")
        if filters is not None and not filters.get("with_input"):
            del fields["input"]
        return fields

    @extend_schema_field(serializers.CharField())
    def get_input_summary(self, run: WorkflowRun) -> str:
        return input_summary(run.input)


class AttemptSerializer(serializers.ModelSerializer):
    status = StatusField(StepRunStatus)

    class Meta:
        model = StepRunAttempt
        fields = [
            "number",
            "status",
            "error",
            "traceback",
            "worker_id",
            "worker_name",
            "assigned_at",
            "started_at",
            "finished_at",
        ]


class StepRunSerializer(serializers.ModelSerializer):
    step = serializers.CharField(source="step.name")
    status = StatusField(StepRunStatus)
    parents = serializers.ListField(
        source="step.parents", child=serializers.CharField(), help_text="Parent step names."
    )
    playground = serializers.ListField(child=serializers.JSONField())
    attempts = AttemptSerializer(many=True)

    class Meta:
        model = StepRun
        fields = [
            "id",
            "step",
            "action",
            "status",
            "attempt",
            "retry_count",
            "output",
            "error",
            "playground",
            "usage",
            "parents",
            "created_at",
            "queued_at",
            "started_at",
            "finished_at",
            "worker_id",
            "attempts",
        ]


class RunDetailSerializer(RunSerializer):
    """A workflow run with its step runs; expects the prefetches of `run_details`."""

    version = serializers.IntegerField(source="version.number")
    input = serializers.DictField(child=serializers.JSONField())
    overrides = serializers.DictField(child=serializers.DictField(child=serializers.JSONField()))
    step_runs = StepRunSerializer(many=True)

    class Meta(RunSerializer.Meta):
        fields = [
            "id",
            "workflow",
            "version",
            "status",
            "input",
            "additional_metadata",
            "overrides",
            "trigger",
            "priority",
            "waiting_for",
            "concurrency_key",
            "event",
            "cron",
            "scheduled_run",
            "fire_time",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "step_runs",
        ]


CHILDREN_SHOWN = 50


class ParentLinkSerializer(serializers.Serializer):
    run = serializers.UUIDField()
    workflow = serializers.CharField()
    step_run = serializers.UUIDField()
    step = serializers.CharField()
    spawn_key = serializers.CharField()


class ChildRunSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    status = StatusField(WorkflowRunStatus)
    parent_step_run = serializers.UUIDField(source="parent_step_run_id")

    class Meta:
        model = WorkflowRun
        fields = ["id", "workflow", "status", "spawn_key", "parent_step_run", "created_at"]


class ChildrenSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_step_run = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many each step run spawned, by its id."
    )
    runs = ChildRunSerializer(many=True)


class DurableWaitSerializer(serializers.ModelSerializer):
    class Meta:
        model = DurableWait
        fields = [
            "ordinal",
            "kind",
            "spec",
            "created_at",
            "due_at",
            "resolved_at",
            "result",
        ]


class RunDetailWithWaitsSerializer(RunDetailSerializer):
    """A run's detail as `GET /runs/{id}` answers it: with why it waits. Not in a
    trigger's answer, whose run has just been queued: asking the workers there would
    cost every trigger a query after its commit."""

    waiting_reason = serializers.SerializerMethodField(
        help_text="Why the run has queued nothing yet (paused, its concurrency key full); "
        "blank when it has."
    )
    step_waiting_reasons = serializers.SerializerMethodField(
        help_text="Why each queued step run waits (no worker serves it, every one busy, a "
        "retry's backoff, a rate limit full or not defined), by step run id."
    )
    spawned_by = serializers.SerializerMethodField(
        help_text="The step run that spawned this run as its child, if one did."
    )
    children = serializers.SerializerMethodField(
        help_text=f"The runs its steps spawned: how many, by status, and the first "
        f"{CHILDREN_SHOWN} (list them all with `GET /runs?parent_run=`)."
    )
    step_waits = serializers.SerializerMethodField(
        help_text="The waits of each durable step run (its checkpoints), by step run id."
    )

    def get_waiting_reason(self, run: WorkflowRun) -> str:
        return run_waiting_reason(run)

    @extend_schema_field(ParentLinkSerializer(allow_null=True))
    def get_spawned_by(self, run: WorkflowRun) -> dict[str, Any] | None:
        if run.parent_step_run_id is None:
            return None
        parent = (
            StepRun.objects.filter(pk=run.parent_step_run_id)
            .select_related("step", "workflow_run__workflow")
            .first()
        )
        if parent is None:
            return None
        return ParentLinkSerializer(
            {
                "run": parent.workflow_run_id,
                "workflow": parent.workflow_run.workflow.name,
                "step_run": parent.pk,
                "step": parent.step.name,
                "spawn_key": run.spawn_key,
            }
        ).data

    @extend_schema_field(ChildrenSummarySerializer())
    def get_children(self, run: WorkflowRun) -> dict[str, Any]:
        children = WorkflowRun.objects.filter(parent_step_run__workflow_run_id=run.pk)
        counts = children.values_list("parent_step_run_id", "status").annotate(count=Count("id"))
        by_status: dict[str, int] = {}
        by_step_run: dict[str, int] = {}
        for step_run_id, status, count in counts.order_by():
            by_status[status] = by_status.get(status, 0) + count
            by_step_run[str(step_run_id)] = by_step_run.get(str(step_run_id), 0) + count
        first = children.select_related("workflow").order_by("created_at", "id")[:CHILDREN_SHOWN]
        return ChildrenSummarySerializer(
            {
                "count": sum(by_status.values()),
                "by_status": dict(sorted(by_status.items())),
                "by_step_run": by_step_run,
                "runs": list(first),
            }
        ).data

    @extend_schema_field(serializers.DictField(child=DurableWaitSerializer(many=True)))
    def get_step_waits(self, run: WorkflowRun) -> dict[str, Any]:
        durable = [s.pk for s in run.step_runs.all() if s.step.durable]
        waits = waits_of(durable) if durable else {}
        return {
            str(step_run_id): DurableWaitSerializer(its_waits, many=True).data
            for step_run_id, its_waits in waits.items()
        }

    def get_step_waiting_reasons(self, run: WorkflowRun) -> dict[str, str]:
        reasons = step_waiting_reasons(run.tenant_id, run.step_runs.all())
        return {str(step_run_id): reason for step_run_id, reason in reasons.items()}

    class Meta(RunDetailSerializer.Meta):
        fields = [
            *RunDetailSerializer.Meta.fields,
            "waiting_reason",
            "step_waiting_reasons",
            "spawned_by",
            "children",
            "step_waits",
        ]


class LineFilterSerializer(QuerySerializer):
    attempt = serializers.IntegerField(
        required=False, min_value=1, help_text="Only this attempt's lines."
    )


class StepRunLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepRunLine
        fields = ["attempt", "seq", "level", "text", "created_at"]


class StreamPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = StepRunLineSerializer(many=True)
    text = serializers.CharField(
        help_text="Every chunk of the requested attempt (default: the latest), joined."
    )


class StartedRunSerializer(serializers.ModelSerializer):
    """A run a trigger started; expects `workflow` selected with it."""

    workflow = serializers.CharField(source="workflow.name")
    status = StatusField(WorkflowRunStatus)

    class Meta:
        model = WorkflowRun
        fields = ["id", "workflow", "status", "created_at"]


class EventSerializer(serializers.ModelSerializer):
    payload = serializers.DictField(child=serializers.JSONField())
    additional_metadata = serializers.DictField(child=serializers.JSONField())

    class Meta:
        model = Event
        fields = ["id", "key", "payload", "additional_metadata", "created_at"]


class EventDetailSerializer(EventSerializer):
    """An event with the runs it started (pushed or replayed)."""

    runs = StartedRunSerializer(many=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "runs"]


class NewEventSerializer(serializers.Serializer):
    refuses_unknown_fields = True  # workflows/handlers.py::check_event refuses them
    key = serializers.CharField(help_text="Segments separated by ':', e.g. 'user:created'.")
    payload = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="The runs' input."
    )
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)
    idempotency_key = serializers.CharField(
        required=False,
        max_length=MAX_IDEMPOTENCY_KEY,
        help_text="A push naming a key used within HATCHET_IDEMPOTENCY_WINDOW (24 h) is "
        "answered with that event, and starts nothing.",
    )


class EventBatchSerializer(serializers.Serializer):
    """A batch of events, stored whole or not at all."""

    refuses_unknown_fields = True
    events = serializers.ListField(child=NewEventSerializer(), min_length=1)


class PushedEventsSerializer(serializers.Serializer):
    events = EventDetailSerializer(many=True)


class EventFilterSerializer(MetadataFilterSerializer):
    key = serializers.CharField(
        required=False, help_text="A key, or a pattern where '*' stands for one segment."
    )
    key_prefix = serializers.CharField(required=False, help_text="Keys that start with this.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)

    def filter(self, rows: QuerySet[M], query: Any) -> QuerySet[M]:
        filters = self.validated_data
        events = rows
        key = filters.get("key")
        if key is not None and "*" in key:
            parts = [r"[^:]+" if part == "*" else re.escape(part) for part in key.split(":")]
            events = events.filter(key__regex="^" + ":".join(parts) + "$")
        elif key is not None:
            events = events.filter(key=key)
        if "key_prefix" in filters:
            events = events.filter(key__startswith=filters["key_prefix"])
        if "created_after" in filters:
            events = events.filter(created_at__gte=filters["created_after"])
        if "created_before" in filters:
            events = events.filter(created_at__lt=filters["created_before"])
        return self.filter_metadata(events, query)


class CronSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    timezone = serializers.CharField(source="timezone_name")
    input = serializers.DictField(child=serializers.JSONField())
    additional_metadata = serializers.DictField(child=serializers.JSONField())
    next_fire_at = serializers.DateTimeField(
        allow_null=True, help_text="When it fires next; null while paused."
    )

    class Meta:
        model = CronTrigger
        fields = [
            "id",
            "workflow",
            "name",
            "expression",
            "timezone",
            "source",
            "is_paused",
            "input",
            "additional_metadata",
            "next_fire_at",
            "last_fired_at",
            "created_at",
        ]

    def to_representation(self, instance: CronTrigger) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.is_paused:
            data["next_fire_at"] = None
        return data


class CronDetailSerializer(CronSerializer):
    recent_runs = serializers.SerializerMethodField()

    class Meta(CronSerializer.Meta):
        fields = [*CronSerializer.Meta.fields, "recent_runs"]

    @extend_schema_field(StartedRunSerializer(many=True))
    def get_recent_runs(self, cron: CronTrigger) -> ReturnList:
        runs = cron.runs.select_related("workflow").order_by("-created_at")[:RECENT_RUNS]
        return serializers.ListSerializer(runs, child=StartedRunSerializer()).data


class NewCronSerializer(StrictSerializer):
    workflow = serializers.CharField()
    expression = serializers.CharField(
        help_text="Five fields, six with leading seconds, or an alias such as '@daily'."
    )
    name = serializers.CharField(required=False, allow_blank=True)
    timezone = serializers.CharField(required=False, help_text="IANA name; default UTC.")
    input = serializers.DictField(child=serializers.JSONField(), required=False)
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)


class CronFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")


class ScheduleSerializer(serializers.ModelSerializer):
    """A one-off schedule; expects `workflow` selected and `runs` prefetched."""

    workflow = serializers.CharField(source="workflow.name")
    status = StatusField(ScheduledRunStatus)
    input = serializers.DictField(child=serializers.JSONField())
    additional_metadata = serializers.DictField(child=serializers.JSONField())
    run_id = serializers.SerializerMethodField(help_text="The run it started, once fired.")

    class Meta:
        model = ScheduledRun
        fields = [
            "id",
            "workflow",
            "trigger_at",
            "status",
            "input",
            "additional_metadata",
            "created_at",
            "fired_at",
            "run_id",
        ]

    def get_run_id(self, scheduled: ScheduledRun) -> str | None:
        runs = list(scheduled.runs.all())
        return str(runs[0].pk) if runs else None


class NewScheduleSerializer(StrictSerializer):
    workflow = serializers.CharField()
    trigger_at = serializers.DateTimeField(help_text="ISO 8601 with a zone; not in the past.")
    input = serializers.DictField(child=serializers.JSONField(), required=False)
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)


class RescheduleSerializer(StrictSerializer):
    trigger_at = serializers.DateTimeField()


class ScheduleFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")
    status = serializers.ChoiceField(choices=ScheduledRunStatus.choices, required=False)


PERIOD_NAMES = [label for _, label in RateLimitPeriod.choices]


class RateLimitListSerializer(serializers.ListSerializer):
    """Limits with the units each took in its window ending now: one query per period."""

    def to_representation(self, data: Any) -> list[Any]:
        rate_limits = list(data.all() if isinstance(data, QuerySet) else data)
        self.context["used"] = current_use(rate_limits, timezone.now())
        return super().to_representation(rate_limits)


class RateLimitSerializer(serializers.ModelSerializer):
    period = serializers.ChoiceField(choices=PERIOD_NAMES, source="get_period_display")
    used = serializers.SerializerMethodField(
        help_text="Units taken in the window that ends now (the last `period`)."
    )

    class Meta:
        model = RateLimit
        fields = ["id", "key", "limit", "period", "dynamic", "used", "created_at", "updated_at"]
        list_serializer_class = RateLimitListSerializer

    def get_used(self, rate_limit: RateLimit) -> int:
        used = self.context.get("used")
        if used is None:
            used = current_use([rate_limit], timezone.now())
        return int(used.get(rate_limit.id, 0))


class PutRateLimitSerializer(StrictSerializer):
    # Untrimmed: a key is the name a step declares, as it is.
    key = serializers.CharField(max_length=MAX_RATE_LIMIT_KEY, trim_whitespace=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_RATE_LIMIT)
    period = serializers.ChoiceField(choices=PERIOD_NAMES)


class RateLimitFilterSerializer(QuerySerializer):
    key = serializers.CharField(required=False, help_text="A limit's key.")
    dynamic = serializers.BooleanField(required=False)


class RetentionSerializer(serializers.Serializer):
    """How long the tenant's finished runs and events are kept."""

    days = serializers.IntegerField(
        source="retention_days",
        read_only=True,
        allow_null=True,
        help_text="The tenant's own period in days; null follows the server's default, "
        "0 keeps the history forever.",
    )
    default_days = serializers.SerializerMethodField(
        help_text="The server's default (HATCHET_RETENTION_DAYS); 0 is forever."
    )
    effective_days = serializers.IntegerField(
        source="effective_retention_days",
        read_only=True,
        help_text="The period that applies: finished runs and events older than this many "
        "days are deleted; 0 is forever.",
    )
    is_archived = serializers.SerializerMethodField(
        help_text="Whether the server writes what it deletes to JSONL first "
        "(HATCHET_RETENTION_ARCHIVE_DIR)."
    )

    def get_default_days(self, _tenant: Tenant) -> int:
        return int(settings.HATCHET_RETENTION_DAYS)

    def get_is_archived(self, _tenant: Tenant) -> bool:
        return bool(settings.HATCHET_RETENTION_ARCHIVE_DIR)


class EditRetentionSerializer(StrictSerializer):
    """The tenant's own period."""

    days = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        max_value=MAX_RETENTION_DAYS,
        help_text="Days finished runs and events are kept; null: the server's default; 0: forever.",
    )


class OverviewFilterSerializer(QuerySerializer):
    page_parameters: set[str] = set()

    window = serializers.ChoiceField(
        choices=list(WINDOWS),
        default=DEFAULT_WINDOW,
        help_text="How far back the buckets go; each window has 60 buckets.",
    )


class OverviewBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    runs = serializers.IntegerField(help_text="Runs triggered in the bucket.")
    runs_per_second = serializers.FloatField(
        help_text="Runs triggered per second (of the bucket's time passed so far)."
    )
    failed = serializers.IntegerField(help_text="Of the bucket's runs, those that failed.")
    cancelled = serializers.IntegerField(help_text="Of the bucket's runs, those cancelled.")
    p50_ms = serializers.FloatField(
        allow_null=True, help_text="Median trigger-to-start of the bucket's started runs."
    )
    p99_ms = serializers.FloatField(allow_null=True)
    queue_depth = serializers.IntegerField(
        allow_null=True,
        help_text="The most step runs queued at once, as sampled each minute; null "
        "where no sample was taken.",
    )


class OverviewSerializer(serializers.Serializer):
    window = serializers.ChoiceField(choices=list(WINDOWS))
    bucket_seconds = serializers.IntegerField()
    buckets = OverviewBucketSerializer(many=True)
    queued = serializers.IntegerField(help_text="Step runs queued for a worker now.")
    running = serializers.IntegerField(help_text="Runs running now.")
    workers = serializers.IntegerField(help_text="Workers connected now.")
