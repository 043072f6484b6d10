"""How the playground's variables, variants, runs, comparisons and evaluators look in
the API."""

import re
from typing import Any

from django.conf import settings
from django.db.models import TextChoices
from drf_spectacular.utils import extend_schema_field
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from rest_framework import serializers

from hatchet.api import QuerySerializer
from playground.github.connections import REPOSITORY_NAME, token_source
from playground.models import (
    Dataset,
    DatasetRow,
    DatasetVersion,
    DatasetVersionOrigin,
    Evaluator,
    EvaluatorKind,
    GateMetric,
    GitHubConnection,
    PairwiseVote,
    PlaygroundRun,
    PlaygroundRunKind,
    PullRequestRequest,
    RegressionThreshold,
    Review,
    ScoreStatus,
    Thumbs,
    Variable,
    VariableDefault,
    Variant,
    VariantRevision,
)
from playground.outcomes import replay_outputs
from workflows.models import WorkflowRunStatus
from workflows.serializers import RunDetailSerializer, StatusField, StrictSerializer


def overrides_field(**kwargs: Any) -> serializers.DictField:
    kwargs.setdefault("help_text", "Values by step and variable name: {step: {variable: value}}.")
    return serializers.DictField(
        child=serializers.DictField(child=serializers.JSONField()), **kwargs
    )


class CallSiteSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Relative to the worker's project root.")
    line = serializers.IntegerField()
    function = serializers.CharField()


class VariableDefaultSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number")
    default = serializers.JSONField()
    call_site = CallSiteSerializer()

    class Meta:
        model = VariableDefault
        fields = ["version", "type", "default", "call_site", "first_seen_at", "last_seen_at"]


class VariableSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    default = serializers.JSONField(help_text="The default in code, as the newest version ran it.")
    call_site = CallSiteSerializer()
    version = serializers.IntegerField(
        source="version_number", help_text="The newest version that recorded it."
    )
    history = VariableDefaultSerializer(
        many=True, help_text="Each distinct default it had, oldest first, with its version."
    )

    class Meta:
        model = Variable
        fields = [
            "id",
            "workflow",
            "step",
            "name",
            "type",
            "default",
            "call_site",
            "version",
            "first_seen_at",
            "last_seen_at",
            "history",
        ]


class VariableFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")
    step = serializers.CharField(required=False, help_text="A step name.")


class VariantSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    overrides = overrides_field()
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = Variant
        fields = [
            "id",
            "workflow",
            "name",
            "notes",
            "overrides",
            "revision",
            "created_by",
            "created_at",
            "updated_at",
        ]


class VariantFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")


class NewVariantSerializer(StrictSerializer):
    workflow = serializers.CharField()
    name = serializers.CharField(max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    overrides = overrides_field(required=False, default=dict)


class EditVariantSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    overrides = overrides_field(required=False)
    base_revision = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The revision this edit was made on; 409 if it is no longer the current one.",
    )


class RestoreVariantSerializer(StrictSerializer):
    revision = serializers.IntegerField(min_value=1)


class OverrideChangeKind(TextChoices):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class OverrideChangeSerializer(serializers.Serializer):
    step = serializers.CharField()
    name = serializers.CharField()
    kind = StatusField(OverrideChangeKind)
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class VariantRevisionSerializer(serializers.ModelSerializer):
    overrides = overrides_field()
    changes = OverrideChangeSerializer(many=True, help_text="Against the revision before.")
    author = serializers.CharField(source="author_name")

    class Meta:
        model = VariantRevision
        fields = [
            "number",
            "name",
            "notes",
            "overrides",
            "changes",
            "restored_from",
            "author",
            "created_at",
        ]


class PlaygroundRunSerializer(serializers.ModelSerializer):
    """A run the playground started; expects `run__workflow` selected with it."""

    run_id = serializers.UUIDField()
    kind = StatusField(PlaygroundRunKind)
    workflow = serializers.CharField(source="run.workflow.name")
    status = StatusField(WorkflowRunStatus, source="run.status")
    overrides = overrides_field(help_text="The ad hoc overrides, laid over the variant's.")
    variant_name = serializers.CharField(help_text="Kept when the variant is deleted.")
    from_step = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = PlaygroundRun
        fields = [
            "run_id",
            "kind",
            "workflow",
            "status",
            "variant",
            "variant_name",
            "variant_revision",
            "overrides",
            "source_run",
            "from_step",
            "comparison",
            "row",
            "column",
            "created_by",
            "created_at",
        ]


class StepOutputDiffSerializer(serializers.Serializer):
    step = serializers.CharField()
    reused = serializers.BooleanField(help_text="Its source output was reused, not recomputed.")
    source_status = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    source_output = serializers.JSONField(allow_null=True, help_text="The source run's output.")
    replay_output = serializers.JSONField(allow_null=True, help_text="The replay's output.")
    changed = serializers.BooleanField()
    changes = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()),
        help_text="[{path, kind: added|removed|changed, old, new}] where the outputs differ.",
    )
    unified = serializers.CharField(help_text="A unified diff of the two outputs as JSON.")


class PlaygroundRunDetailSerializer(PlaygroundRunSerializer):
    """With the run itself and, for a replay, each step's output beside its source's."""

    run = RunDetailSerializer()
    diff = serializers.SerializerMethodField(
        help_text="Replays only: each step's output beside the source run's."
    )

    class Meta(PlaygroundRunSerializer.Meta):
        fields = [*PlaygroundRunSerializer.Meta.fields, "run", "diff"]

    @extend_schema_field(StepOutputDiffSerializer(many=True, allow_null=True))
    def get_diff(self, record: PlaygroundRun) -> list[dict[str, Any]] | None:
        if record.kind != PlaygroundRun.Kind.REPLAY:
            return None
        return list(StepOutputDiffSerializer(replay_outputs(record), many=True).data)


class PlaygroundRunFilterSerializer(QuerySerializer):
    workflow_name_field = "run__workflow__name"
    workflow = serializers.CharField(required=False, help_text="A workflow name.")
    kind = StatusField(PlaygroundRunKind, required=False)
    variant = serializers.UUIDField(required=False)
    source_run = serializers.UUIDField(required=False)
    comparison = serializers.UUIDField(required=False)


class OverrideChoiceSerializer(StrictSerializer):
    variant = serializers.UUIDField(required=False, help_text="A variant of the workflow.")
    variant_revision = serializers.IntegerField(
        required=False, min_value=1, help_text="A past revision of the variant; default: current."
    )
    overrides = overrides_field(required=False)


class NewPlaygroundRunSerializer(OverrideChoiceSerializer):
    workflow = serializers.CharField()
    input = serializers.DictField(child=serializers.JSONField(), required=False)
    additional_metadata = serializers.DictField(child=serializers.JSONField(), required=False)


class ReplaySerializer(OverrideChoiceSerializer):
    source_run = serializers.UUIDField(help_text="The run to replay.")
    from_step = serializers.CharField(
        required=False,
        help_text="Run from this step; the steps it depends on reuse the source's outputs.",
    )
    input = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="Whole replays only."
    )


class ColumnRequestSerializer(StrictSerializer):
    baseline = serializers.BooleanField(required=False, help_text="The defaults in code.")
    variant = serializers.UUIDField(required=False)
    revision = serializers.IntegerField(required=False, min_value=1)
    overrides = overrides_field(required=False)
    title = serializers.CharField(required=False, max_length=200)


class RowRequestSerializer(StrictSerializer):
    run = serializers.UUIDField(required=False, help_text="A past run: its input is replayed.")
    input = serializers.DictField(child=serializers.JSONField(), required=False)
    title = serializers.CharField(required=False, max_length=200)


class NewComparisonSerializer(StrictSerializer):
    workflow = serializers.CharField()
    columns = ColumnRequestSerializer(
        many=True, help_text="Each {baseline: true}, {variant, revision?} or {overrides}."
    )
    rows = RowRequestSerializer(
        many=True, required=False, help_text="Each {run} (a past run) or {input}."
    )
    from_step = serializers.CharField(
        required=False, help_text="Replay past runs from this step (rows must all be runs)."
    )
    dataset = serializers.UUIDField(
        required=False, help_text="A dataset of the workflow: its rows follow `rows`."
    )
    dataset_version = serializers.IntegerField(
        required=False, min_value=1, help_text="The dataset's version; default: its newest."
    )

    evaluators = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=50,
        help_text="Evaluators of the workflow to score each cell with; default: all of them.",
    )
    baseline = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The column the others are held against; default: the first with the "
        "defaults in code, else column 0.",
    )
    repeat = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        help_text="Runs per (row, column), to see how stable each cell is (default 1); the "
        "cell cap counts rows x columns x repeats.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "dataset_version" in data and "dataset" not in data:
            raise serializers.ValidationError("dataset_version needs a dataset.")
        return data


class ColumnSerializer(serializers.Serializer):
    title = serializers.CharField()
    variant = serializers.UUIDField(allow_null=True)
    variant_name = serializers.CharField(allow_blank=True)
    revision = serializers.IntegerField(allow_null=True)
    overrides = overrides_field(help_text="What the column's runs get.")


class RowSerializer(serializers.Serializer):
    title = serializers.CharField()
    source_run = serializers.UUIDField(allow_null=True)
    input = serializers.DictField(child=serializers.JSONField())
    # Not required: comparisons made before datasets have no such keys.
    expected = serializers.JSONField(
        required=False, allow_null=True, help_text="A dataset row's expected output; null: none."
    )
    dataset_row = serializers.UUIDField(
        required=False, allow_null=True, help_text="The dataset row it ran."
    )


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    model = serializers.CharField(allow_null=True)


class StreamChunkSerializer(serializers.Serializer):
    step_run_id = serializers.UUIDField()
    attempt = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="The chunk's place among its attempt's lines.")
    text = serializers.CharField(allow_blank=True)


class VerdictSerializer(serializers.Serializer):
    status = StatusField(ScoreStatus, help_text="pending while a judge has not answered.")
    value = serializers.FloatField(allow_null=True, help_text="From 0 to 1.")
    passed = serializers.BooleanField(allow_null=True, help_text="value >= the threshold.")
    reason = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True, help_text="Why there is no verdict.")
    tokens = serializers.IntegerField(allow_null=True, help_text="The judge's own.")
    cost = serializers.FloatField(allow_null=True, help_text="The judge's own, in USD.")
    latency_ms = serializers.FloatField(allow_null=True, help_text="The judge's own.")
    run = serializers.UUIDField(
        allow_null=True, help_text="A code evaluator's run that gives (or will give) it."
    )


class ScoreSerializer(VerdictSerializer):
    evaluator = serializers.UUIDField()
    name = serializers.CharField(help_text="The evaluator's.")


class CellSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.IntegerField()
    repeat = serializers.IntegerField(help_text="Which of the (row, column)'s repeats, from 0.")
    attempt = serializers.IntegerField(
        help_text="Which attempt at the repeat, from 0; re-running a failed cell adds one."
    )
    is_latest = serializers.BooleanField(
        help_text="The repeat's latest attempt: the one the summary counts."
    )
    run_id = serializers.UUIDField()
    kind = StatusField(PlaygroundRunKind)
    status = StatusField(WorkflowRunStatus)
    is_finished = serializers.BooleanField()
    output_step = serializers.CharField(help_text="The step whose output `output` is.")
    output = serializers.JSONField(allow_null=True)
    outputs = serializers.DictField(child=serializers.JSONField(allow_null=True))
    error = serializers.CharField(allow_blank=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    usage = UsageSerializer(allow_null=True, help_text="Where steps report it.")
    cost = serializers.FloatField(
        allow_null=True,
        help_text="USD, from the steps' usage and HATCHET_MODEL_PRICES; null when a step's "
        "model has no price or none reported usage.",
    )
    scores = ScoreSerializer(many=True, help_text="Each evaluator's, once the run finished.")
    stream = serializers.CharField(allow_blank=True, help_text="Streamed text so far.")
    stream_chunks = StreamChunkSerializer(
        many=True, help_text="The chunks of `stream`, to merge live chunks with by seq."
    )


class ComparisonSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    workflow = serializers.CharField(source="workflow.name")
    from_step = serializers.CharField(allow_blank=True)
    dataset = serializers.UUIDField(source="dataset_id", required=False, allow_null=True)
    dataset_version = serializers.IntegerField(required=False, allow_null=True)
    columns = ColumnSerializer(many=True)
    rows = RowSerializer(many=True)
    repeat = serializers.IntegerField(help_text="Runs per (row, column).")
    created_by = serializers.CharField(source="created_by_name")
    created_at = serializers.DateTimeField()


class EvaluatorSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    step = serializers.CharField(
        allow_blank=True, help_text="Blank: the step whose output a cell shows."
    )
    kind = StatusField(EvaluatorKind)
    config = serializers.DictField(child=serializers.JSONField())
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = Evaluator
        fields = [
            "id",
            "workflow",
            "step",
            "name",
            "kind",
            "config",
            "threshold",
            "created_by",
            "created_at",
            "updated_at",
        ]


class EvaluatorSummarySerializer(serializers.Serializer):
    evaluator = serializers.UUIDField()
    name = serializers.CharField()
    scored = serializers.IntegerField(help_text="Cells it gave a verdict on.")
    passed = serializers.IntegerField()
    errored = serializers.IntegerField(help_text="Cells it could give no verdict on.")
    pending = serializers.IntegerField()
    pass_rate = serializers.FloatField(allow_null=True, help_text="passed / scored.")
    mean_score = serializers.FloatField(allow_null=True)


class ColumnSummarySerializer(serializers.Serializer):
    column = serializers.IntegerField()
    is_baseline = serializers.BooleanField()
    runs = serializers.IntegerField(
        help_text="The cells counted: each repeat's latest attempt, so a row repeated 3 "
        "times counts 3 times in the pass rates, means and totals."
    )
    evaluators = EvaluatorSummarySerializer(many=True)
    mean_latency_ms = serializers.FloatField(allow_null=True)
    total_tokens = serializers.IntegerField()
    total_cost = serializers.FloatField(allow_null=True, help_text="USD, of the priced cells.")
    evaluator_cost = serializers.FloatField(allow_null=True, help_text="USD, of its judges.")
    improved = serializers.IntegerField(
        help_text="Rows whose mean score (over evaluators and repeats) is higher than the "
        "baseline column's."
    )
    regressed = serializers.IntegerField(help_text="Rows whose mean score is lower.")
    unchanged = serializers.IntegerField()


class ReviewSerializer(serializers.ModelSerializer):
    run_id = serializers.UUIDField(source="cell_id")
    thumbs = serializers.ChoiceField(choices=Thumbs.choices, allow_blank=True)
    reviewer = serializers.CharField(source="reviewer_name")

    class Meta:
        model = Review
        fields = ["id", "run_id", "thumbs", "score", "comment", "reviewer", "updated_at"]


class ColumnReviewSummarySerializer(serializers.Serializer):
    """What people said of a column: its reviews, and its blind votes against others."""

    column = serializers.IntegerField()
    reviews = serializers.IntegerField()
    thumbs_up = serializers.IntegerField()
    thumbs_down = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True)
    votes = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    ties = serializers.IntegerField()
    pairwise_score = serializers.FloatField(
        allow_null=True, help_text="(wins + ties / 2) / votes; null without votes."
    )


class NewReviewSerializer(StrictSerializer):
    run_id = serializers.UUIDField(help_text="The cell's run.")
    thumbs = serializers.ChoiceField(
        choices=Thumbs.choices, required=False, allow_blank=True, default=""
    )
    score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10_000, trim_whitespace=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["thumbs"] or attrs.get("score") is not None or attrs["comment"].strip()):
            raise serializers.ValidationError("A review needs thumbs, a score or a comment.")
        return attrs


class BlindPairQuerySerializer(QuerySerializer):
    a = serializers.IntegerField(min_value=0, help_text="One column of the pair.")
    b = serializers.IntegerField(min_value=0, help_text="The other column.")


class BlindPairSerializer(serializers.Serializer):
    """Two outputs of one row, in random order, their columns not said."""

    pair = serializers.CharField(
        allow_null=True, help_text="What to vote on; null when every row has a vote."
    )
    remaining = serializers.IntegerField(help_text="Rows left to vote on, this one included.")
    input = serializers.JSONField(required=False)
    left = serializers.JSONField(required=False)
    right = serializers.JSONField(required=False)


class NewVoteSerializer(StrictSerializer):
    pair = serializers.CharField(max_length=2000)
    choice = serializers.ChoiceField(choices=["left", "right", "tie"])


class VoteSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer_name")

    class Meta:
        model = PairwiseVote
        fields = ["id", "row", "column_a", "column_b", "winner", "reviewer", "created_at"]


class ComparisonSerializer(serializers.Serializer):
    """The matrix: one cell per (row, column); live at /ws/playground/compare/{id}."""

    id = serializers.UUIDField()
    workflow = serializers.CharField()
    from_step = serializers.CharField(allow_null=True)
    dataset = serializers.UUIDField(
        required=False, allow_null=True, help_text="The dataset whose rows it ran."
    )
    dataset_version = serializers.IntegerField(required=False, allow_null=True)
    columns = ColumnSerializer(many=True)
    rows = RowSerializer(many=True)
    repeat = serializers.IntegerField(help_text="Runs per (row, column).")
    cells = CellSerializer(
        many=True, help_text="Per (row, column): each repeat, each attempt at it in turn."
    )
    evaluators = EvaluatorSerializer(many=True, help_text="What scores the cells.")
    baseline = serializers.IntegerField(help_text="The column the summary holds the others to.")
    summary = ColumnSummarySerializer(many=True, help_text="One per column.")
    is_finished = serializers.BooleanField()
    reviews = ReviewSerializer(many=True)
    review_summary = ColumnReviewSummarySerializer(many=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class ComparisonFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")


class ComparisonQuerySerializer(QuerySerializer):
    baseline = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Sum the columns up against this column; default: the comparison's.",
    )


class PullRequestChangeSerializer(serializers.Serializer):
    step = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField(help_text="The file in the repository.")
    old = serializers.JSONField(help_text="The default in code before.")
    new = serializers.JSONField()


class PullRequestSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    changes = PullRequestChangeSerializer(many=True)
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = PullRequestRequest
        fields = [
            "id",
            "workflow",
            "variant",
            "variant_name",
            "revision",
            "state",
            "reason",
            "attempts",
            "branch",
            "commit_sha",
            "changes",
            "pr_number",
            "pr_url",
            "pr_state",
            "created_by",
            "created_at",
            "updated_at",
            "opened_at",
        ]


class PullRequestFilterSerializer(QuerySerializer):
    variant = serializers.UUIDField(required=False)


class NewPullRequestSerializer(StrictSerializer):
    variant = serializers.UUIDField()
    revision = serializers.IntegerField(
        min_value=1, required=False, help_text="A past revision; the current one if absent."
    )


class GitHubConnectionSerializer(serializers.ModelSerializer):
    has_token = serializers.SerializerMethodField()
    token_source = serializers.SerializerMethodField(
        help_text="stored (on the connection), environment (GITHUB_TOKEN, which "
        "HATCHET_GITHUB_TOKEN_REPOSITORIES lets serve this repository) or none."
    )
    has_webhook_secret = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField(help_text="GITHUB_API_URL.")

    class Meta:
        model = GitHubConnection
        fields = [
            "repository",
            "base_branch",
            "strip_prefix",
            "add_prefix",
            "has_token",
            "token_source",
            "has_webhook_secret",
            "api_url",
            "updated_at",
        ]

    def get_has_token(self, connection: GitHubConnection) -> bool:
        return self.get_token_source(connection) != "none"

    def get_token_source(self, connection: GitHubConnection) -> str:
        return token_source(connection)

    def get_has_webhook_secret(self, connection: GitHubConnection) -> bool:
        return bool(connection.webhook_secret_ciphertext)

    def get_api_url(self, _connection: GitHubConnection) -> str:
        return str(settings.GITHUB_API_URL)


class EditGitHubConnectionSerializer(StrictSerializer):
    repository = serializers.RegexField(
        REPOSITORY_NAME,
        max_length=200,
        help_text="owner/name",
        error_messages={"invalid": "repository must be owner/name."},
    )
    base_branch = serializers.CharField(max_length=200, default="main")
    strip_prefix = serializers.CharField(
        max_length=500,
        allow_blank=True,
        default="",
        help_text="Removed from the start of the call-site paths the workers report.",
    )
    add_prefix = serializers.CharField(
        max_length=500,
        allow_blank=True,
        default="",
        help_text="Then put in front of them, to make the path in the repository.",
    )
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text='Stored encrypted and never shown; absent keeps the stored one, "" removes '
        "it (GITHUB_TOKEN is used then, for the repositories HATCHET_GITHUB_TOKEN_REPOSITORIES "
        "names).",
    )
    webhook_secret = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The secret of the repository's webhook, which signs its deliveries.",
    )


class DatasetSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    version = serializers.IntegerField(help_text="The newest version; 0 until rows are added.")
    row_count = serializers.IntegerField(help_text="Rows of the newest version.")
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = Dataset
        fields = [
            "id",
            "workflow",
            "name",
            "description",
            "version",
            "row_count",
            "created_by",
            "created_at",
            "updated_at",
        ]


class DatasetVersionSerializer(serializers.ModelSerializer):
    origin = StatusField(DatasetVersionOrigin, help_text="Where its change came from.")
    added = serializers.IntegerField(help_text="Rows added against the version before.")
    removed = serializers.IntegerField(help_text="Rows removed against the version before.")
    author = serializers.CharField(source="author_name")

    class Meta:
        model = DatasetVersion
        fields = ["number", "origin", "row_count", "added", "removed", "author", "created_at"]


class DatasetRowSerializer(serializers.ModelSerializer):
    input = serializers.DictField(child=serializers.JSONField())
    expected = serializers.JSONField(allow_null=True, help_text="null: nothing is expected.")

    class Meta:
        model = DatasetRow
        fields = ["id", "input", "expected", "notes", "source_run", "created_at"]


class DatasetDetailSerializer(DatasetSerializer):
    """With every version and the rows of one: the newest unless another is asked for
    (context["version"], None while the dataset has no rows)."""

    versions = DatasetVersionSerializer(many=True, help_text="Newest first.")
    shown_version = serializers.SerializerMethodField(help_text="The version `rows` are of.")
    rows = serializers.SerializerMethodField()

    class Meta(DatasetSerializer.Meta):
        fields = [*DatasetSerializer.Meta.fields, "versions", "shown_version", "rows"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_shown_version(self, _dataset: Dataset) -> int | None:
        version = self.context["version"]
        return None if version is None else version.number

    @extend_schema_field(DatasetRowSerializer(many=True))
    def get_rows(self, _dataset: Dataset) -> Any:
        version = self.context["version"]
        rows = [] if version is None else version.ordered_rows()
        return DatasetRowSerializer(rows, many=True).data


class DatasetFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")


class DatasetVersionQuerySerializer(QuerySerializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="A version's number; default: the newest."
    )


class NewDatasetSerializer(StrictSerializer):
    workflow = serializers.CharField()
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class EditDatasetSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class NewDatasetRowSerializer(StrictSerializer):
    input = serializers.DictField(child=serializers.JSONField())
    expected = serializers.JSONField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


DATASET_ROW_SOURCES = ("runs", "filter", "comparison", "rows")


class AddDatasetRowsSerializer(StrictSerializer):
    """Exactly one source of rows."""

    runs = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="Past runs of the dataset's workflow: their inputs, in this order.",
    )
    filter = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="The runs list's filters (status, created_after, created_before, event, "
        "metadata): the inputs of the runs they match, oldest first, the playground's own "
        "runs left out; at most 1,000 runs.",
    )
    comparison = serializers.UUIDField(
        required=False, help_text="A comparison of the workflow: its rows' inputs."
    )
    rows = NewDatasetRowSerializer(many=True, required=False, help_text="Rows as they are.")
    expected_from_output = serializers.BooleanField(
        required=False,
        default=False,
        help_text="runs and filter: each run's output (of its last step) is what is "
        "expected of its input.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        named = [source for source in DATASET_ROW_SOURCES if source in data]
        if len(named) != 1:
            raise serializers.ValidationError(
                "Name one source of rows: runs, filter, comparison or rows."
            )
        if data["expected_from_output"] and named[0] not in ("runs", "filter"):
            raise serializers.ValidationError("expected_from_output goes with runs or filter.")
        return data


class RemoveDatasetRowsSerializer(StrictSerializer):
    rows = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        help_text="Rows of the newest version, by id.",
    )


class DatasetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .jsonl or .csv file.")


class TextCheckConfigSerializer(StrictSerializer):
    text = serializers.CharField(max_length=1000)
    case_sensitive = serializers.BooleanField(default=False)


class RegexConfigSerializer(StrictSerializer):
    pattern = serializers.CharField(max_length=500)
    case_sensitive = serializers.BooleanField(default=False)

    def validate_pattern(self, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise serializers.ValidationError(f"Not a regular expression: {error}.") from None
        return pattern


class NoConfigSerializer(StrictSerializer):
    pass


class JSONSchemaConfigSerializer(StrictSerializer):
    schema = serializers.DictField(
        child=serializers.JSONField(), help_text="A JSON Schema (draft 2020-12)."
    )

    def validate_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            raise serializers.ValidationError(f"Not a JSON Schema: {error.message}.") from None
        return schema


class LengthConfigSerializer(StrictSerializer):
    min = serializers.IntegerField(min_value=0, required=False, help_text="Characters.")
    max = serializers.IntegerField(min_value=0, required=False, help_text="Characters.")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "min" not in data and "max" not in data:
            raise serializers.ValidationError("Give min, max or both (characters).")
        if data.get("min", 0) > data.get("max", data.get("min", 0)):
            raise serializers.ValidationError(
                f"min ({data['min']}) is more than max ({data['max']})."
            )
        return {"min": data.get("min"), "max": data.get("max")}


class LatencyConfigSerializer(StrictSerializer):
    max_ms = serializers.FloatField(min_value=0, help_text="The longest run that passes.")


class CostConfigSerializer(StrictSerializer):
    max_usd = serializers.FloatField(min_value=0, help_text="The dearest run that passes.")


class LLMJudgeConfigSerializer(StrictSerializer):
    rubric = serializers.CharField(max_length=4000, help_text="What a good output does.")
    model = serializers.CharField(
        max_length=200,
        default=lambda: settings.HATCHET_JUDGE_MODEL,
        help_text="The Chat Completions model; default HATCHET_JUDGE_MODEL.",
    )


CONFIG_SERIALIZERS: dict[str, type[StrictSerializer]] = {
    EvaluatorKind.CONTAINS: TextCheckConfigSerializer,
    EvaluatorKind.NOT_CONTAINS: TextCheckConfigSerializer,
    EvaluatorKind.REGEX: RegexConfigSerializer,
    EvaluatorKind.EQUALS_EXPECTED: NoConfigSerializer,
    EvaluatorKind.IS_JSON: NoConfigSerializer,
    EvaluatorKind.JSON_SCHEMA: JSONSchemaConfigSerializer,
    EvaluatorKind.LENGTH: LengthConfigSerializer,
    EvaluatorKind.LATENCY: LatencyConfigSerializer,
    EvaluatorKind.COST: CostConfigSerializer,
    EvaluatorKind.LLM_JUDGE: LLMJudgeConfigSerializer,
}

CONFIG_HELP = (
    "By kind: contains, not_contains {text, case_sensitive?}; regex {pattern, "
    "case_sensitive?}; equals_expected, is_json {}; json_schema {schema}; length {min?, "
    "max?} in characters; latency {max_ms}; cost {max_usd}; llm_judge {rubric, model?}."
)


CODE_IS_DECLARED = (
    "A code evaluator is declared in code with the SDK's @hatchet.evaluator and made "
    "when a worker registers it; its name, step and function change there."
)


def valid_config(kind: str, config: Any) -> dict[str, Any]:
    """The config as the kind's serializer validates it, or its errors under `config`."""
    if kind == EvaluatorKind.CODE:
        raise serializers.ValidationError({"kind": CODE_IS_DECLARED})
    checked = CONFIG_SERIALIZERS[kind](data=config)
    if not checked.is_valid():
        raise serializers.ValidationError({"config": checked.errors})
    return dict(checked.validated_data)


class EvaluatorFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")
    kind = StatusField(EvaluatorKind, required=False)


class NewEvaluatorSerializer(StrictSerializer):
    workflow = serializers.CharField()
    name = serializers.CharField(max_length=200)
    step = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The step whose output it checks; default: the one a cell shows.",
    )
    kind = StatusField(EvaluatorKind)
    config = serializers.DictField(
        child=serializers.JSONField(), required=False, default=dict, help_text=CONFIG_HELP
    )
    threshold = serializers.FloatField(
        min_value=0, max_value=1, default=0.5, help_text="A score of at least this passes."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "config": valid_config(data["kind"], data["config"])}


class EditEvaluatorSerializer(StrictSerializer):
    """Validated with the evaluator's `kind` in the context: a config is checked
    against the kind it will have."""

    name = serializers.CharField(max_length=200, required=False)
    step = serializers.CharField(max_length=200, required=False, allow_blank=True)
    kind = StatusField(EvaluatorKind, required=False)
    config = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text=CONFIG_HELP
    )
    threshold = serializers.FloatField(min_value=0, max_value=1, required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data.get("kind", self.context["kind"])
        if self.context["kind"] == EvaluatorKind.CODE and set(data) - {"threshold"}:
            raise serializers.ValidationError(
                {field: CODE_IS_DECLARED for field in sorted(set(data) - {"threshold"})}
            )
        if "config" in data or kind != self.context["kind"]:
            data = {**data, "config": valid_config(kind, data.get("config", {}))}
        return data


class TryEvaluatorSerializer(StrictSerializer):
    input = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
    output = serializers.JSONField(allow_null=True, help_text="The output to evaluate.")
    expected = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="For equals_expected."
    )
    duration_ms = serializers.FloatField(min_value=0, required=False, help_text="For latency.")
    cost = serializers.FloatField(min_value=0, required=False, help_text="USD, for cost.")


class GateRuleSerializer(StrictSerializer):
    evaluator = serializers.CharField(max_length=200, help_text="An evaluator's name.")
    metric = StatusField(GateMetric, default=GateMetric.PASS_RATE)
    max_drop = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="How far below the baseline's the variant's metric may fall.",
    )
    at_least = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="The least the variant's metric must reach.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["max_drop"] is None and data["at_least"] is None:
            raise serializers.ValidationError("Set max_drop, at_least or both.")
        return data


class NewThresholdSerializer(GateRuleSerializer):
    workflow = serializers.CharField()


class ThresholdSerializer(serializers.ModelSerializer):
    workflow = serializers.CharField(source="workflow.name")
    evaluator = serializers.CharField(source="evaluator.name")
    evaluator_id = serializers.UUIDField(source="evaluator.pk")
    metric = StatusField(GateMetric)
    created_by = serializers.CharField(source="created_by_name")

    class Meta:
        model = RegressionThreshold
        fields = [
            "id",
            "workflow",
            "evaluator",
            "evaluator_id",
            "metric",
            "max_drop",
            "at_least",
            "created_by",
            "created_at",
            "updated_at",
        ]


class ThresholdFilterSerializer(QuerySerializer):
    workflow = serializers.CharField(required=False, help_text="A workflow name.")


class NewEvaluationSerializer(StrictSerializer):
    workflow = serializers.CharField()
    dataset = serializers.CharField(max_length=200, help_text="A dataset's name or id.")
    variant = serializers.CharField(max_length=200, help_text="A variant's name or id.")
    baseline = serializers.CharField(
        max_length=200,
        default="code",
        help_text="A variant's name or id, or 'code' (the defaults in code).",
    )
    rules = GateRuleSerializer(
        many=True,
        required=False,
        default=list,
        help_text="Bounds besides the workflow's thresholds.",
    )


class GateEvaluatorSerializer(serializers.Serializer):
    name = serializers.CharField()
    scored = serializers.IntegerField()
    passed = serializers.IntegerField()
    pass_rate = serializers.FloatField(allow_null=True)
    mean_score = serializers.FloatField(allow_null=True)


class GateColumnSerializer(serializers.Serializer):
    column = serializers.IntegerField()
    title = serializers.CharField()
    is_baseline = serializers.BooleanField()
    evaluators = GateEvaluatorSerializer(many=True)
    mean_latency_ms = serializers.FloatField(allow_null=True)
    total_tokens = serializers.IntegerField()
    total_cost = serializers.FloatField(allow_null=True)
    improved = serializers.IntegerField()
    regressed = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class RegressedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    title = serializers.CharField()
    baseline_score = serializers.FloatField()
    score = serializers.FloatField()


class EvaluationSerializer(serializers.Serializer):
    """A gate run's verdict: `regressed` means only once `is_finished` (every cell run
    and scored)."""

    id = serializers.UUIDField()
    comparison = serializers.UUIDField()
    workflow = serializers.CharField()
    column = serializers.IntegerField()
    baseline = serializers.IntegerField()
    is_finished = serializers.BooleanField()
    regressed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    rules = GateRuleSerializer(many=True)
    columns = GateColumnSerializer(many=True)
    regressed_rows = RegressedRowSerializer(many=True)
