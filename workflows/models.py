"""Workflow definitions and their runs: the durable truth the engine works on."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from hatchet.models import Tenant


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    # New runs wait (WorkflowRun.waiting_for) until it resumes; running ones go on.
    is_paused = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="workflow_name_per_tenant")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def latest_version(self) -> "WorkflowVersion | None":
        return self.versions.order_by("-number").first()


class WorkflowVersion(models.Model):
    """One registered shape of a workflow; a changed definition makes a new version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64)
    definition = models.JSONField()
    timeout_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="version_number"),
            models.UniqueConstraint(fields=["workflow", "checksum"], name="version_checksum"),
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.workflow.name} v{self.number}"

    def run_deadline(self, started: datetime) -> datetime | None:
        """When a run of this version begun (or retried) at `started` times out."""
        if self.timeout_seconds is None:
            return None
        return started + timedelta(seconds=self.timeout_seconds)


class Step(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=200)
    action = models.CharField(max_length=401)
    parents = models.JSONField(default=list)
    timeout_seconds = models.FloatField()
    schedule_timeout_seconds = models.FloatField()
    retries = models.PositiveIntegerField(default=0)
    backoff_initial_seconds = models.FloatField()
    backoff_factor = models.FloatField()
    backoff_max_seconds = models.FloatField()
    # The step that runs only when another fails for good, before the run fails.
    is_on_failure = models.BooleanField(default=False)
    # The units it takes of rate limits at each attempt (workflows/engine/rate_limits.py).
    rate_limits = models.JSONField(default=list)
    # The labels it requires or prefers of a worker, and whether its run's steps stick
    # to the worker that took the first ("soft", "hard" or blank), as
    # workflows/engine/affinity.py reads them.
    desired_worker_labels = models.JSONField(default=dict)
    sticky = models.CharField(max_length=4, blank=True, default="")
    # At most `max_runs` of its step runs per key held by workers at once
    # (workflows/engine/concurrency.py, step_key); null when it has no limit of its own.
    concurrency = models.JSONField(null=True, blank=True)
    # Its waits (sleeps, events, children) free the worker's slot and are checkpointed:
    # a later attempt replays the function and gets what they returned from the record
    # (workflows/engine/durable.py).
    durable = models.BooleanField(default=False)
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="step_name")]
        ordering = ["position"]

    def __str__(self) -> str:
        return self.action

    def backoff_after(self, failed_attempts: int) -> timedelta:
        """Delay before the retry that follows the n-th failed attempt (n >= 1)."""
        seconds = self.backoff_initial_seconds * self.backoff_factor ** (failed_attempts - 1)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


WAITING_FOR_RESUME = "resume"
WAITING_FOR_SLOT = "concurrency"
# 1 (the default) to 4 (the most urgent): see StepRun.ranked_at.
DEFAULT_PRIORITY = 1
MAX_PRIORITY = 4


class WorkflowRunStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


WORKFLOW_RUN_TERMINAL = {
    WorkflowRunStatus.SUCCEEDED,
    WorkflowRunStatus.FAILED,
    WorkflowRunStatus.CANCELLED,
}


def trigger_link(model: str) -> "models.ForeignKey[Any, Any]":
    """A run's link to the trigger that started it; None for the other kinds."""
    return models.ForeignKey(
        model,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        db_index=False,
    )


class WorkflowRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the (tenant, ...) indexes below start with it, and every
    # index is written again on each status change, the hot path's main cost in PostgreSQL.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="workflow_runs", db_index=False
    )
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(
        max_length=16, choices=WorkflowRunStatus.choices, default=WorkflowRunStatus.PENDING
    )
    input = models.JSONField(default=dict)
    additional_metadata = models.JSONField(default=dict)
    # {step name: {variable name: value}}: what context.playground returns instead of
    # the defaults in code.
    overrides = models.JSONField(default=dict)
    trigger = models.CharField(max_length=16, default="api")
    priority = models.PositiveSmallIntegerField(default=DEFAULT_PRIORITY)
    # Why a PENDING run has not queued its first steps: WAITING_FOR_RESUME (its workflow
    # is paused) or WAITING_FOR_SLOT (its concurrency key is full); blank for every
    # other run.
    waiting_for = models.CharField(max_length=16, blank=True, default="")
    # The key its workflow's concurrency counts it under (workflows/engine/concurrency.py).
    concurrency_key = models.CharField(max_length=255, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    # What started the run, when a trigger did (the `trigger` field names its kind);
    # indexed only where set (Meta): most runs have none of them.
    event = trigger_link("Event")
    cron = trigger_link("CronTrigger")
    scheduled_run = trigger_link("ScheduledRun")
    # The cron tick or schedule time the run fired for: after downtime a missed tick
    # fires late, so created_at does not say which tick it was.
    fire_time = models.DateTimeField(null=True, blank=True)
    # The step run that spawned this run as its child, and the key it spawned it under:
    # a step that spawns again under a key (a retry, a durable replay) gets this run
    # back (workflows/engine/children.py).
    parent_step_run = models.ForeignKey(
        "StepRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        db_index=False,
    )
    spawn_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["parent_step_run", "spawn_key"],
                condition=Q(parent_step_run__isnull=False),
                name="run_spawn_key",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="run_tenant_created"),
            models.Index(fields=["tenant", "status", "-created_at"], name="run_tenant_status"),
            # Partial: a run's deadline is cleared when it finishes, so finished
            # history costs its status changes no writes here.
            models.Index(
                fields=["deadline"], condition=Q(deadline__isnull=False), name="run_open_deadline"
            ),
            *(
                models.Index(
                    fields=[link], condition=Q(**{f"{link}__isnull": False}), name=f"run_{link}"
                )
                for link in ("event", "cron", "scheduled_run")
            ),
            # Partial: the unfinished runs of each concurrency key, oldest first.
            models.Index(
                fields=["tenant", "concurrency_key", "created_at"],
                condition=~Q(concurrency_key="") & Q(finished_at__isnull=True),
                name="run_concurrency_key",
            ),
            # Partial: only waiting runs, in the order their wait ends.
            models.Index(
                fields=["workflow", "created_at"],
                condition=~Q(waiting_for=""),
                name="run_waiting",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.workflow.name} run {self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in WORKFLOW_RUN_TERMINAL


class StepRunStatus(models.TextChoices):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    ASSIGNED = "ASSIGNED"
    RUNNING = "RUNNING"
    # A durable step waits (a sleep, an event, children) and holds no worker's slot: it
    # is queued again when the wait ends.
    WAITING = "WAITING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


STEP_RUN_TERMINAL = {
    StepRunStatus.SUCCEEDED,
    StepRunStatus.FAILED,
    StepRunStatus.CANCELLED,
    StepRunStatus.TIMED_OUT,
}
STEP_RUN_HELD = {StepRunStatus.ASSIGNED, StepRunStatus.RUNNING}
# A step run has a deadline exactly while it is open (queued: to be assigned; assigned:
# to start; running: to finish). Queries of held step runs say so, because SQLite uses a
# partial index only when the query repeats its condition (a comparison on the column
# stands for IS NOT NULL), and the indexes below cover open step runs only.
HELD_STEP_RUNS = Q(status__in=sorted(STEP_RUN_HELD), deadline__isnull=False)


class StepRun(models.Model):
    """One step of one workflow run. `deadline` means, by status: QUEUED, the latest
    time to be assigned; ASSIGNED, to be started; RUNNING, to finish."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Neither the tenant nor the step is indexed alone: no query looks step runs up by
    # either (the claim's queue index and the run serve them), and each index is
    # written again on every status change.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    workflow_run = models.ForeignKey(
        WorkflowRun, on_delete=models.CASCADE, related_name="step_runs"
    )
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="runs", db_index=False)
    action = models.CharField(max_length=401)
    status = models.CharField(
        max_length=16, choices=StepRunStatus.choices, default=StepRunStatus.PENDING
    )
    attempt = models.PositiveIntegerField(default=0)
    retry_count = models.PositiveIntegerField(default=0)
    requeue_count = models.PositiveIntegerField(default=0)
    worker_id = models.UUIDField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    playground = models.JSONField(default=list)
    usage = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)
    # The run's priority, copied: queueing again (a retry) reads no run.
    priority = models.PositiveSmallIntegerField(default=DEFAULT_PRIORITY)
    # Its step chooses its worker (labels, a sticky run): claimed apart from the others
    # (workflows/engine/affinity.py), so that the common claim stays one statement.
    constrained = models.BooleanField(default=False)
    # The key its step's concurrency limit counts it under; blank without one.
    concurrency_key = models.CharField(max_length=255, blank=True, default="")
    # The order of the claim: when it became claimable, moved earlier by its priority
    # (HATCHET_PRIORITY_AGING per level), so that urgent steps go first and the others
    # still get their turn.
    ranked_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Partial, over open step runs only: a step run's later status changes write no
        # entries in them, and the claim and the count of a worker's held slots do not
        # wade through the entries of finished history (trigger-to-start p50 went from
        # ~5 to ~7 ms after 15,000 runs with full indexes).
        indexes = [
            models.Index(
                fields=["action", "ranked_at"],
                condition=Q(status="QUEUED", constrained=False),
                name="step_run_ranked",
            ),
            models.Index(
                fields=["action", "ranked_at"],
                condition=Q(status="QUEUED", constrained=True),
                name="step_run_constrained",
            ),
            models.Index(
                fields=["worker_id", "status"],
                condition=Q(deadline__isnull=False),
                name="step_run_open_worker",
            ),
            # Partial: the held step runs of each step concurrency key.
            models.Index(
                fields=["concurrency_key", "status"],
                condition=Q(deadline__isnull=False) & ~Q(concurrency_key=""),
                name="step_run_open_key",
            ),
            models.Index(
                fields=["status", "deadline"],
                condition=Q(deadline__isnull=False),
                name="step_run_open_deadline",
            ),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.action} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in STEP_RUN_TERMINAL


class StepRunAttempt(models.Model):
    """One assignment of a step run to a worker, with its own outcome."""

    # Indexed by the unique (step_run, number) constraint, which starts with it.
    step_run = models.ForeignKey(
        StepRun, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=StepRunStatus.choices)
    worker_id = models.UUIDField(null=True, blank=True)
    worker_name = models.CharField(max_length=200, blank=True, default="")
    assigned_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step_run", "number"], name="attempt_number")
        ]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.step_run_id}"


class RateLimitPeriod(models.IntegerChoices):
    SECOND = 1, "second"
    MINUTE = 60, "minute"
    HOUR = 3600, "hour"
    DAY = 86400, "day"


class RateLimit(models.Model):
    """At most `limit` units taken in any `period` (a sliding window), by the step runs
    of every workflow that name its key. A dynamic one was created by a step that
    computes its key from the run's input or metadata."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    limit = models.PositiveIntegerField()
    period = models.PositiveIntegerField(choices=RateLimitPeriod.choices)
    dynamic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="rate_limit_key")]
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.limit}/{self.get_period_display()}"


class RateLimitUse(models.Model):
    """Units of a rate limit taken by a step run's attempt as it was assigned."""

    id = models.BigAutoField(primary_key=True)
    rate_limit = models.ForeignKey(
        RateLimit, on_delete=models.CASCADE, related_name="uses", db_index=False
    )
    units = models.PositiveIntegerField()
    used_at = models.DateTimeField()
    step_run_id = models.UUIDField()

    class Meta:
        indexes = [models.Index(fields=["rate_limit", "used_at"], name="rate_limit_use_window")]

    def __str__(self) -> str:
        return f"{self.units} of {self.rate_limit_id} at {self.used_at}"


class StepRunLine(models.Model):
    """A log line or a stream chunk, stored once per (step run, attempt, kind, seq)."""

    class Kind(models.TextChoices):
        LOG = "log"
        STREAM = "stream"

    step_run = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="lines")
    attempt = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    seq = models.PositiveIntegerField()
    level = models.CharField(max_length=16, blank=True, default="")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step_run", "attempt", "kind", "seq"], name="line_once")
        ]
        ordering = ["attempt", "seq"]

    def __str__(self) -> str:
        return f"{self.kind} {self.seq} of {self.step_run_id}"

    def as_message(self) -> dict[str, Any]:
        return {
            "step_run_id": str(self.step_run_id),
            "attempt": self.attempt,
            "kind": self.kind,
            "seq": self.seq,
            "level": self.level,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }


class DurableWait(models.Model):
    """One wait of a durable step run, in the order its function made them: what it
    waits for (`spec`, compared again on replay), until when, and once it is over what
    it returned (`result`). The waits of a step run are its checkpoints."""

    class Kind(models.TextChoices):
        SLEEP = "sleep"
        EVENT = "event"
        CHILDREN = "children"

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Indexed by the unique (step_run, ordinal) constraint, which starts with it.
    step_run = models.ForeignKey(
        StepRun, on_delete=models.CASCADE, related_name="waits", db_index=False
    )
    ordinal = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    spec = models.JSONField()
    # The key of the event awaited; blank for the other kinds.
    event_key = models.CharField(max_length=255, blank=True, default="")
    # When the wait ends by itself: a sleep is over, any other wait times out.
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step_run", "ordinal"], name="durable_wait_ordinal")
        ]
        # Partial, over open waits only: those an event push or the tick may end.
        indexes = [
            models.Index(
                fields=["tenant", "event_key"],
                condition=Q(resolved_at__isnull=True, kind="event"),
                name="durable_wait_event",
            ),
            models.Index(
                fields=["kind", "due_at"],
                condition=Q(resolved_at__isnull=True),
                name="durable_wait_open",
            ),
        ]
        ordering = ["ordinal"]

    def __str__(self) -> str:
        return f"wait {self.ordinal} ({self.kind}) of {self.step_run_id}"


class Event(models.Model):
    """An event an application pushed: stored before the push returns, kept as a log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    additional_metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="event_tenant_created"),
            models.Index(fields=["tenant", "key", "-created_at"], name="event_tenant_key"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"event {self.key} {self.id}"


class IdempotencyKey(models.Model):
    """A key a run trigger or an event push named: another call naming it within
    HATCHET_IDEMPOTENCY_WINDOW is answered with what the first made."""

    class Scope(models.TextChoices):
        RUN = "run"
        EVENT = "event"

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=255)
    # Set in the transaction that took the key, once what it made has an id.
    run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.ForeignKey(
        "Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "scope", "key"], name="idempotency_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class EventTrigger(models.Model):
    """One `on_events` pattern of a workflow's latest version, kept in step with it on
    registration so that matching an event is an indexed lookup, not a scan of
    definitions. A wildcard pattern is compared in Python against the few patterns of
    the key's segment count."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="event_triggers")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    pattern = models.CharField(max_length=255)
    segment_count = models.PositiveIntegerField()
    is_wildcard = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "pattern"], name="event_trigger_once")
        ]
        indexes = [
            models.Index(fields=["tenant", "pattern"], name="event_trigger_exact"),
            models.Index(
                fields=["tenant", "is_wildcard", "segment_count"], name="event_trigger_wildcard"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} on {self.pattern}"


class CronTrigger(models.Model):
    """A cron that starts runs of a workflow: declared in its definition (`on_crons`,
    replaced when a new version is registered) or created through the API.

    `next_fire_at` is the next due time; a tick claims due rows with SKIP LOCKED and,
    in the transaction that starts the run, moves it to the first time after now."""

    class Source(models.TextChoices):
        DECLARED = "declared"
        API = "api"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="crons")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="crons")
    source = models.CharField(max_length=16, choices=Source.choices)
    name = models.CharField(max_length=200, blank=True, default="")
    expression = models.CharField(max_length=200)
    timezone_name = models.CharField(max_length=64, default="UTC")
    input = models.JSONField(default=dict)
    additional_metadata = models.JSONField(default=dict)
    is_paused = models.BooleanField(default=False)
    next_fire_at = models.DateTimeField()
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "name"],
                condition=~models.Q(name=""),
                name="cron_name_per_workflow",
            )
        ]
        indexes = [models.Index(fields=["is_paused", "next_fire_at"], name="cron_due")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"cron {self.expression} of {self.workflow_id}"


class ScheduledRunStatus(models.TextChoices):
    SCHEDULED = "SCHEDULED"
    FIRED = "FIRED"
    CANCELLED = "CANCELLED"


class ScheduledRun(models.Model):
    """A run of a workflow to start once, at `trigger_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="scheduled_runs")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="scheduled_runs")
    trigger_at = models.DateTimeField()
    input = models.JSONField(default=dict)
    additional_metadata = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=ScheduledRunStatus.choices, default=ScheduledRunStatus.SCHEDULED
    )
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "trigger_at"], name="scheduled_run_due")]
        ordering = ["trigger_at", "id"]

    def __str__(self) -> str:
        return f"{self.workflow_id} at {self.trigger_at.isoformat()}"


class QueueDepthSample(models.Model):
    """How many of a tenant's step runs were queued for a worker in one minute, as the
    tick counted them (workflows/engine/overview.py): the Overview's queue depth over
    time, which the step runs' rows cannot tell afterwards."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by the unique (tenant, minute) constraint, which starts with it.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    minute = models.DateTimeField()
    depth = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Several tick nodes sampling the same minute write one row.
            models.UniqueConstraint(fields=["tenant", "minute"], name="queue_depth_sample_once")
        ]
        # Whether this minute is sampled yet, and the old samples to forget.
        indexes = [models.Index(fields=["minute"], name="queue_depth_sample_minute")]

    def __str__(self) -> str:
        return f"{self.depth} queued at {self.minute.isoformat()}"
