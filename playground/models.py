"""The playground's state: the variables steps expose, variants (saved sets of
overrides) with their revisions, the runs, replays and comparisons made here, people's
reviews of cells, and the evaluators that score comparison cells with their scores."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from hatchet.models import Tenant
from workflows.models import Workflow, WorkflowRun, WorkflowVersion

# The JSON types the SDK records (docs/protocol.md).
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")


class Made(models.Model):
    """Who made it (the user, and their name as it was then: a token's, or a user's
    who may be gone) and when."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class Edited(Made):
    """Made, and changed since: when last."""

    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class Authored(models.Model):
    """A change and who made it (the user, and their name as it was then), and when."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


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


class Variant(Edited):
    """A named, saved set of overrides {step: {name: value}} for one workflow."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="")
    overrides = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="variant_name_per_workflow")
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name


class VariantRevision(Authored):
    """A variant as one edit left it; restoring one makes a new revision."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True, default="")
    overrides = models.JSONField(default=dict)
    # [{step, name, old, new}] against the revision before; absent values are null.
    changes = models.JSONField(default=list)
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "number"], name="variant_revision_number")
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.variant_id} r{self.number}"


class Comparison(Made):
    """Columns (variants, the baseline or ad hoc overrides) by rows (past runs or
    custom inputs); each cell is a PlaygroundRun."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    # [{title, variant, variant_name, revision, overrides}]
    columns = models.JSONField(default=list)
    # [{title, source_run, input, expected, dataset_row}]
    rows = models.JSONField(default=list)
    from_step = models.CharField(max_length=200, blank=True, default="")
    # The dataset whose rows it ran, and the version they were taken from.
    dataset = models.ForeignKey(
        "Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="comparisons"
    )
    dataset_version = models.PositiveIntegerField(null=True, blank=True)
    # What scores its cells, and the column the others are held against.
    evaluators: "models.ManyToManyField[Evaluator, Any]" = models.ManyToManyField(
        "Evaluator", blank=True, related_name="+"
    )
    baseline = models.PositiveIntegerField(default=0)
    # How many times each (row, column) runs: its repeats show how stable a cell is.
    repeat = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"comparison {self.id}"


# The trigger of every run the playground starts (cells, replays, dataset runs): its
# PlaygroundRun records point at runs of this trigger only.
PLAYGROUND_TRIGGER = "playground"


class PlaygroundRunKind(models.TextChoices):
    RUN = "run"
    REPLAY = "replay"


class PlaygroundRun(Made):
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
    # Which of the cell's repeats it is, and which attempt at it: re-running a failed
    # cell adds the next attempt and keeps the earlier ones.
    repeat = models.PositiveIntegerField(default=0)
    attempt = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="playground_run_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.run_id}"


class GitHubConnection(models.Model):
    """The repository a tenant's pull requests go to. The token and the webhook secret
    are stored encrypted (playground.github.secrets) and never shown."""

    tenant = models.OneToOneField(
        Tenant, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    repository = models.CharField(max_length=200)  # owner/name
    base_branch = models.CharField(max_length=200, default="main")
    # Call sites are relative to the worker's project root: strip this prefix from
    # them, then add that one, to get paths in the repository.
    strip_prefix = models.CharField(max_length=500, blank=True, default="")
    add_prefix = models.CharField(max_length=500, blank=True, default="")
    token_ciphertext = models.TextField(blank=True, default="")
    webhook_secret_ciphertext = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.repository}@{self.base_branch}"


class PullRequestState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    OPENED = "opened"
    FAILED = "failed"


class PullState(models.TextChoices):
    """The pull request's own state on GitHub, once opened."""

    OPEN = "open"
    MERGED = "merged"
    CLOSED = "closed"


class PullRequestRequest(Edited):
    """One "Open pull request" click: a variant at a revision, written into the code
    on a branch of its own, and the pull request that came of it."""

    State = PullRequestState

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="pull_requests"
    )
    variant_name = models.CharField(max_length=200)
    revision = models.PositiveIntegerField()
    # The variant's overrides at that revision, {step: {name: value}}.
    overrides = models.JSONField(default=dict)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    reason = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    branch = models.CharField(max_length=250, blank=True, default="")
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    # [{step, name, path, old, new}] as written into the code.
    changes = models.JSONField(default=list)
    pr_number = models.PositiveIntegerField(null=True, blank=True)
    pr_url = models.CharField(max_length=500, blank=True, default="")
    pr_state = models.CharField(max_length=8, choices=PullState.choices, blank=True, default="")
    opened_at = models.DateTimeField(null=True, blank=True)
    # The last comparison whose finish queued the evidence on the pull request: one
    # queueing per comparison however many times its cells are announced scored.
    evidence_comparison = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="pull_request_created"),
            models.Index(fields=["tenant", "pr_number"], name="pull_request_number"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"pull request {self.id} ({self.state})"

    def as_message(self) -> dict[str, Any]:
        """The request's state as the socket sends it when it changes."""
        return {
            "type": "pull_request.state",
            "id": str(self.id),
            "state": self.state,
            "reason": self.reason,
            "attempts": self.attempts,
            "branch": self.branch,
            "commit_sha": self.commit_sha,
            "pr_number": self.pr_number,
            "pr_url": self.pr_url,
            "pr_state": self.pr_state,
            "updated_at": self.updated_at.isoformat(),
        }


class Dataset(Edited):
    """A named set of inputs of one workflow to compare variants over, each maybe with
    the output expected of it. Its rows change only by new versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # The newest version's number (0 until rows are first added) and its row count.
    version = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="dataset_name_per_workflow")
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name


class DatasetRow(models.Model):
    """One input, written once and shared by every version that holds it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rows")
    input = models.JSONField(default=dict)
    # null: nothing is expected (a JSON null cannot be told from it).
    expected = models.JSONField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    source_run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"dataset row {self.id}"


class DatasetVersionOrigin(models.TextChoices):
    """Where a version's change came from."""

    RUNS = "runs"
    FILTER = "filter"
    COMPARISON = "comparison"
    ROWS = "rows"
    UPLOAD = "upload"
    REMOVAL = "removal"


class DatasetVersion(Authored):
    """The rows a dataset held after one change; never changed afterwards."""

    Origin = DatasetVersionOrigin

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    row_count = models.PositiveIntegerField()
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number")
        ]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.number}"

    def ordered_rows(self) -> list[DatasetRow]:
        memberships = self.memberships.select_related("row").order_by("position")
        return [membership.row for membership in memberships]


class DatasetMembership(models.Model):
    """A row's place in a version: versions share rows, not copies of them."""

    version = models.ForeignKey(
        DatasetVersion, on_delete=models.CASCADE, related_name="memberships"
    )
    row = models.ForeignKey(DatasetRow, on_delete=models.CASCADE, related_name="memberships")
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="dataset_row_place"),
            models.UniqueConstraint(fields=["version", "row"], name="dataset_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.position}"


class Thumbs(models.TextChoices):
    UP = "up"
    DOWN = "down"


class Review(models.Model):
    """A person's judgement of one comparison cell: thumbs, a score from 0 to 1 and a
    comment, any of them; one per cell and reviewer, edited in place."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="reviews")
    cell = models.ForeignKey(PlaygroundRun, on_delete=models.CASCADE, related_name="reviews")
    thumbs = models.CharField(max_length=4, choices=Thumbs.choices, blank=True, default="")
    score = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell", "reviewer_name"], name="one_review_per_cell"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=1),
                name="review_score_from_0_to_1",
            ),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"review of {self.cell_id} by {self.reviewer_name}"


class PairwiseVote(models.Model):
    """A blind A/B judgement: two cells of one row, shown in random order without their
    columns, and which the reviewer found better (None: a tie). Kept by the columns it
    judged, the lower first; one per pair, row and reviewer, the last vote standing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="votes")
    row = models.PositiveIntegerField()
    column_a = models.PositiveIntegerField()
    column_b = models.PositiveIntegerField()
    winner = models.PositiveIntegerField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comparison", "row", "column_a", "column_b", "reviewer_name"],
                name="one_vote_per_pair",
            ),
            models.CheckConstraint(
                condition=models.Q(column_a__lt=models.F("column_b")), name="pair_in_order"
            ),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"vote on row {self.row}: {self.winner}"


class EvaluatorKind(models.TextChoices):
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    REGEX = "regex"
    EQUALS_EXPECTED = "equals_expected"
    IS_JSON = "is_json"
    JSON_SCHEMA = "json_schema"
    LENGTH = "length"
    LATENCY = "latency"
    COST = "cost"
    LLM_JUDGE = "llm_judge"
    # A function declared with the SDK's @hatchet.evaluator, run by the user's workers.
    CODE = "code"


class Evaluator(Edited):
    """A check of a workflow's output (its output step's, or the named step's), run on
    every cell of the comparisons it is chosen for. `config` holds the kind's settings,
    as its serializer validated them (playground.serializers.CONFIG_SERIALIZERS)."""

    Kind = EvaluatorKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    # Blank: the step whose output a cell shows (playground.outcomes.output_step).
    step = models.CharField(max_length=200, blank=True, default="")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    config = models.JSONField(default=dict)
    # A score of at least this passes (the checks score 0 or 1; a judge anywhere between).
    threshold = models.FloatField(default=0.5)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="evaluator_name_per_workflow")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_judge(self) -> bool:
        """Scored by a model, in the background; the other kinds are cheap checks."""
        return self.kind == EvaluatorKind.LLM_JUDGE

    @property
    def is_code(self) -> bool:
        """Declared by a worker (playground.code_evaluators): each score is a run of its
        workflow, `config["workflow"]`."""
        return self.kind == EvaluatorKind.CODE


class ScoreStatus(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    ERROR = "error"


class Score(models.Model):
    """One evaluator's verdict on one comparison cell: a value from 0 to 1, whether it
    passed and why; a judge's own tokens, cost and time. An error (a judge that did not
    answer, a row with no expected output) says so and counts as no verdict."""

    Status = ScoreStatus

    cell = models.ForeignKey(PlaygroundRun, on_delete=models.CASCADE, related_name="scores")
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="scores")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    value = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    # A code evaluator's run that gives this score (the latest, after a rescore).
    evaluator_run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cell", "evaluator"], name="score_once_per_cell")
        ]
        ordering = ["evaluator__name"]

    def __str__(self) -> str:
        return f"{self.evaluator_id} on {self.cell_id}: {self.status} {self.value}"


class GateMetric(models.TextChoices):
    """What of an evaluator's column summary a gate looks at."""

    PASS_RATE = "pass_rate"  # noqa: S105 (a metric's name, not a password)
    MEAN_SCORE = "mean_score"


class RegressionThreshold(Edited):
    """How far a variant may fall behind the baseline on one evaluator's metric before
    it counts as a regression (`max_drop`), and the least it must reach (`at_least`);
    either or both. The regression gate and the pull request's commit status use the
    workflow's thresholds (playground.gates)."""

    Metric = GateMetric

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    evaluator = models.ForeignKey(Evaluator, on_delete=models.CASCADE, related_name="thresholds")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    max_drop = models.FloatField(null=True, blank=True)
    at_least = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evaluator", "metric"], name="threshold_per_metric"),
            models.CheckConstraint(
                condition=models.Q(max_drop__isnull=False) | models.Q(at_least__isnull=False),
                name="threshold_sets_a_bound",
            ),
        ]
        ordering = ["evaluator__name", "metric"]

    def __str__(self) -> str:
        return f"{self.evaluator_id} {self.metric}"


class Evaluation(Made):
    """A run of the regression gate: a comparison of a variant (column `column`)
    against a baseline over a dataset, judged by the workflow's thresholds and the
    `rules` asked for with it ([{evaluator, metric, max_drop, at_least}])."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    comparison = models.OneToOneField(
        Comparison, on_delete=models.CASCADE, related_name="evaluation"
    )
    column = models.PositiveIntegerField()
    rules = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"evaluation {self.id}"
