"""The playground's state: the variables steps expose, variants (saved sets of
overrides) with their revisions, and the runs, replays and comparisons made here."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from hatchet.models import Tenant
from workflows.models import Workflow, WorkflowRun, WorkflowVersion

# The JSON types the SDK records (docs/protocol.md).
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")


class Variable(models.Model):
    """A value a step exposes with `context.playground(name, default)`, as last seen."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16)
    default = models.JSONField(null=True)
    call_site = models.JSONField(default=dict)
    # The newest version that recorded it; its default is the one in code now.
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    version_number = models.PositiveIntegerField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "step", "name"], name="variable_once")
        ]
        ordering = ["step", "name"]

    def __str__(self) -> str:
        return f"{self.step}.{self.name}"


class VariableDefault(models.Model):
    """One default a variable had in code, with the version that ran it."""

    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="history")
    # Hash of (version, type, default): one row per distinct default per version.
    fingerprint = models.CharField(max_length=64)
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16)
    default = models.JSONField(null=True)
    call_site = models.JSONField(default=dict)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variable", "fingerprint"], name="variable_default_once"
            )
        ]
        ordering = ["first_seen_at", "id"]

    def __str__(self) -> str:
        return f"{self.variable} = {self.default!r}"


class Variant(models.Model):
    """A named, saved set of overrides {step: {name: value}} for one workflow."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="")
    overrides = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="variant_name_per_workflow")
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name


class VariantRevision(models.Model):
    """A variant as one edit left it; restoring one makes a new revision."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="")
    overrides = models.JSONField(default=dict)
    # [{step, name, old, new}] against the revision before; absent values are null.
    changes = models.JSONField(default=list)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "number"], name="variant_revision_number")
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.variant_id} r{self.number}"


class Comparison(models.Model):
    """Columns (variants, the baseline or ad hoc overrides) by rows (past runs or
    custom inputs); each cell is a PlaygroundRun."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    # [{title, variant, variant_name, revision, overrides}]
    columns = models.JSONField(default=list)
    # [{title, source_run, input}]
    rows = models.JSONField(default=list)
    from_step = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"comparison {self.id}"


class PlaygroundRunKind(models.TextChoices):
    RUN = "run"
    REPLAY = "replay"


class PlaygroundRun(models.Model):
    """What the playground knows of a workflow run it started: the variant and
    revision used, the ad hoc overrides, the source of a replay, the comparison cell."""

    Kind = PlaygroundRunKind

    run = models.OneToOneField(
        WorkflowRun, primary_key=True, on_delete=models.CASCADE, related_name="playground_run"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    variant_name = models.CharField(max_length=200, blank=True, default="")
    variant_revision = models.PositiveIntegerField(null=True, blank=True)
    # The ad hoc part, laid over the variant's; the run holds the merged overrides.
    overrides = models.JSONField(default=dict)
    source_run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_step = models.CharField(max_length=200, blank=True, default="")
    comparison = models.ForeignKey(
        Comparison, null=True, blank=True, on_delete=models.CASCADE, related_name="cells"
    )
    row = models.PositiveIntegerField(null=True, blank=True)
    column = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="playground_run_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.run_id}"
