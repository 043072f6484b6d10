"""The playground's REST resources: variables, variants and their revisions, runs,
replays, comparisons and evaluators. Reading needs any role; everything else the
editor role."""

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hatchet.api import error_response
from hatchet.auth import caller_of, tenant_of
from hatchet.celery import enqueue
from hatchet.errors import InvalidRequest
from hatchet.models import Role, Tenant
from hatchet.schema import ErrorSerializer
from hatchet.views import JSONAPIView, TenantViewSet
from playground import datasets, evaluators, gates, reviews, scoring, services, tasks
from playground.evaluation import Subject
from playground.github.connections import connection_for, save_connection
from playground.github.pull_requests import request_pull_request
from playground.github.webhooks import BadSignature, ServerTokenRefused, handle_webhook
from playground.models import (
    Comparison,
    Dataset,
    DatasetVersion,
    Evaluation,
    Evaluator,
    PlaygroundRun,
    PullRequestRequest,
    RegressionThreshold,
    Variable,
    VariableDefault,
    Variant,
)
from playground.outcomes import comparison_matrix
from playground.serializers import (
    AddDatasetRowsSerializer,
    BlindPairQuerySerializer,
    BlindPairSerializer,
    ComparisonFilterSerializer,
    ComparisonQuerySerializer,
    ComparisonSerializer,
    ComparisonSummarySerializer,
    DatasetDetailSerializer,
    DatasetFilterSerializer,
    DatasetSerializer,
    DatasetUploadSerializer,
    DatasetVersionQuerySerializer,
    EditDatasetSerializer,
    EditEvaluatorSerializer,
    EditGitHubConnectionSerializer,
    EditVariantSerializer,
    EvaluationSerializer,
    EvaluatorFilterSerializer,
    EvaluatorSerializer,
    GitHubConnectionSerializer,
    NewComparisonSerializer,
    NewDatasetSerializer,
    NewEvaluationSerializer,
    NewEvaluatorSerializer,
    NewPlaygroundRunSerializer,
    NewPullRequestSerializer,
    NewReviewSerializer,
    NewThresholdSerializer,
    NewVariantSerializer,
    NewVoteSerializer,
    PlaygroundRunDetailSerializer,
    PlaygroundRunFilterSerializer,
    PlaygroundRunSerializer,
    PullRequestFilterSerializer,
    PullRequestSerializer,
    RemoveDatasetRowsSerializer,
    ReplaySerializer,
    RestoreVariantSerializer,
    ReviewSerializer,
    ThresholdFilterSerializer,
    ThresholdSerializer,
    TryEvaluatorSerializer,
    VariableFilterSerializer,
    VariableSerializer,
    VariantFilterSerializer,
    VariantRevisionSerializer,
    VariantSerializer,
    VerdictSerializer,
    VoteSerializer,
)
from workflows.views import run_details


def author_of(request: Request) -> services.Author:
    caller = caller_of(request)
    if caller.token is not None:
        return services.Author(None, f"token:{caller.token.name}")
    return services.Author(request.user, request.user.get_username())


@extend_schema_view(
    list=extend_schema(
        parameters=[VariableFilterSerializer], responses=VariableSerializer(many=True)
    )
)
class VariableViewSet(TenantViewSet):
    """Every variable the tenant's steps have exposed, filled from what runs record."""

    queryset = Variable.objects.select_related("workflow").order_by(
        "workflow__name", "step", "name"
    )
    filter_class = VariableFilterSerializer
    list_serializer_class = VariableSerializer

    def get_queryset(self) -> QuerySet[Variable]:
        history = VariableDefault.objects.select_related("version").order_by("first_seen_at", "id")
        return super().get_queryset().prefetch_related(Prefetch("history", queryset=history))

    @extend_schema(responses=VariableSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(VariableSerializer(self.get_object()).data)


@extend_schema_view(
    list=extend_schema(parameters=[VariantFilterSerializer], responses=VariantSerializer(many=True))
)
class VariantViewSet(TenantViewSet):
    """Saved sets of overrides; every edit is a revision, and any can be restored."""

    queryset = Variant.objects.select_related("workflow").order_by("-updated_at", "id")
    filter_class = VariantFilterSerializer
    list_serializer_class = VariantSerializer

    @extend_schema(request=NewVariantSerializer, responses={201: VariantSerializer})
    def create(self, request: Request) -> Response:
        body = NewVariantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        variant = services.create_variant(
            tenant_of(request),
            data["workflow"],
            data["name"],
            data["overrides"],
            author_of(request),
            notes=data["notes"],
        )
        return Response(VariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=VariantSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(VariantSerializer(self.get_object()).data)

    @extend_schema(
        request=EditVariantSerializer,
        responses=VariantSerializer,
        description="Change the name, notes or overrides; a change makes a new revision.",
    )
    def partial_update(self, request: Request, pk: Any) -> Response:
        body = EditVariantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant = services.edit_variant(
            tenant_of(request), pk, author_of(request), **body.validated_data
        )
        return Response(VariantSerializer(variant).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        services.delete_variant(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=VariantRevisionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def revisions(self, request: Request, pk: Any) -> Response:
        """Every revision of the variant, newest first, with what each changed."""
        variant = self.get_object()
        page = self.paginate_queryset(variant.revisions.order_by("-number"))
        return self.get_paginated_response(VariantRevisionSerializer(page, many=True).data)

    @extend_schema(request=RestoreVariantSerializer, responses=VariantSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: Any) -> Response:
        """Make a past revision current again, as a new revision."""
        body = RestoreVariantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant = services.restore_variant(
            tenant_of(request), pk, body.validated_data["revision"], author_of(request)
        )
        return Response(VariantSerializer(variant).data)


def playground_run_details(tenant: Tenant) -> QuerySet[PlaygroundRun]:
    return PlaygroundRun.objects.filter(tenant=tenant).prefetch_related(
        Prefetch("run", queryset=run_details(tenant)), "source_run"
    )


def playground_run_created_response(tenant: Tenant, record: PlaygroundRun) -> Response:
    detail = playground_run_details(tenant).get(pk=record.pk)
    return Response(PlaygroundRunDetailSerializer(detail).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        parameters=[PlaygroundRunFilterSerializer], responses=PlaygroundRunSerializer(many=True)
    )
)
class PlaygroundRunViewSet(TenantViewSet):
    """Runs started from the playground, with the variant and revision each used."""

    queryset = PlaygroundRun.objects.select_related("run__workflow").order_by(
        "-created_at", "-run_id"
    )
    filter_class = PlaygroundRunFilterSerializer
    list_serializer_class = PlaygroundRunSerializer

    def get_queryset(self) -> QuerySet[PlaygroundRun]:
        if self.action == "retrieve":
            return playground_run_details(tenant_of(self.request))
        return super().get_queryset()

    @extend_schema(responses=PlaygroundRunDetailSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(PlaygroundRunDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=NewPlaygroundRunSerializer, responses={201: PlaygroundRunDetailSerializer}
    )
    def create(self, request: Request) -> Response:
        """Run a workflow with a variant (at its current or a past revision) and/or ad hoc
        overrides laid over it."""
        body = NewPlaygroundRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = tenant_of(request)
        record = services.start_playground_run(
            tenant,
            data["workflow"],
            data.get("input"),
            author_of(request),
            variant_id=data.get("variant"),
            revision=data.get("variant_revision"),
            overrides=data.get("overrides"),
            additional_metadata=data.get("additional_metadata"),
        )
        return playground_run_created_response(tenant, record)

    @extend_schema(request=ReplaySerializer, responses={201: PlaygroundRunDetailSerializer})
    @action(detail=False, methods=["post"])
    def replay(self, request: Request) -> Response:
        """Replay a past run, whole or from a step, with a variant and/or overrides (with
        neither: with the source run's own). The answer links the source and, once the
        replay has run, diffs each step's output against the source's."""
        body = ReplaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = tenant_of(request)
        record = services.replay(
            tenant,
            data["source_run"],
            author_of(request),
            from_step=data.get("from_step"),
            input=data.get("input"),
            variant_id=data.get("variant"),
            revision=data.get("variant_revision"),
            overrides=data.get("overrides"),
        )
        return playground_run_created_response(tenant, record)


@extend_schema_view(
    list=extend_schema(
        parameters=[ComparisonFilterSerializer], responses=ComparisonSummarySerializer(many=True)
    )
)
class ComparisonViewSet(TenantViewSet):
    """Variants (or the baseline) side by side over past runs or custom inputs."""

    queryset = Comparison.objects.select_related("workflow").order_by("-created_at", "-id")
    filter_class = ComparisonFilterSerializer
    list_serializer_class = ComparisonSummarySerializer

    @extend_schema(parameters=[ComparisonQuerySerializer], responses=ComparisonSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        query = ComparisonQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        matrix = comparison_matrix(self.get_object(), query.validated_data.get("baseline"))
        return Response(ComparisonSerializer(matrix).data)

    @extend_schema(request=NewComparisonSerializer, responses={201: ComparisonSerializer})
    def create(self, request: Request) -> Response:
        """Start every (row, column) run at once; the matrix answers at once and fills
        in as runs finish (watch /ws/playground/compare/{id})."""
        body = NewComparisonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = tenant_of(request)
        dataset_version = (
            datasets.dataset_version_or_404(tenant, data["dataset"], data.get("dataset_version"))
            if "dataset" in data
            else None
        )
        comparison = services.start_comparison(
            tenant,
            data["workflow"],
            data["columns"],
            data.get("rows", []),
            author_of(request),
            from_step=data.get("from_step"),
            dataset_version=dataset_version,
            evaluators=data.get("evaluators"),
            baseline=data.get("baseline"),
            repeat=data.get("repeat", 1),
        )
        return Response(
            ComparisonSerializer(comparison_matrix(comparison)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=NewReviewSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def reviews(self, request: Request, pk: Any) -> Response:
        """Review a cell: thumbs, a score from 0 to 1 and a comment, any of them; a
        second review of the same cell by the same person replaces the first."""
        comparison = self.get_object()
        body = NewReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        review = reviews.review_cell(
            comparison,
            data["run_id"],
            author_of(request),
            thumbs=data["thumbs"],
            score=data.get("score"),
            comment=data["comment"],
        )
        return Response(ReviewSerializer(review).data)

    @extend_schema(parameters=[BlindPairQuerySerializer], responses=BlindPairSerializer)
    @action(detail=True, methods=["get"], url_path="blind-pair")
    def blind_pair(self, request: Request, pk: Any) -> Response:
        """A row not yet voted on by the caller for columns `a` and `b`, its two outputs
        in random order, to vote on without knowing which column is which."""
        comparison = self.get_object()
        query = BlindPairQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        pair = reviews.blind_pair(
            comparison,
            query.validated_data["a"],
            query.validated_data["b"],
            author_of(request),
        )
        return Response(BlindPairSerializer(pair).data)

    @extend_schema(request=NewVoteSerializer, responses={201: VoteSerializer})
    @action(detail=True, methods=["post"])
    def votes(self, request: Request, pk: Any) -> Response:
        """Say which of a blind pair is better ("left", "right" or "tie"); a second vote
        on the same row and columns replaces the first."""
        comparison = self.get_object()
        body = NewVoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        recorded = reviews.vote(
            comparison,
            body.validated_data["pair"],
            body.validated_data["choice"],
            author_of(request),
        )
        return Response(VoteSerializer(recorded).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ComparisonSerializer)
    @action(detail=True, methods=["post"])
    def rescore(self, request: Request, pk: Any) -> Response:
        """Score every finished cell again with the comparison's evaluators: checks at
        once, judges as pending until they answer (live on the comparison's socket)."""
        comparison = scoring.rescore_comparison(tenant_of(request), pk)
        return Response(ComparisonSerializer(comparison_matrix(comparison)).data)

    @extend_schema(request=None, responses={201: ComparisonSerializer})
    @action(detail=True, methods=["post"], url_path="rerun-failed")
    def rerun_failed(self, request: Request, pk: Any) -> Response:
        """Start a new attempt at each cell of a finished comparison whose run failed or
        was cancelled, or that an evaluator could give no verdict; earlier attempts
        stay in the matrix, and the summary counts the latest. 409 while cells run or
        when none failed."""
        comparison, _ = services.rerun_failed_cells(tenant_of(request), pk, author_of(request))
        return Response(
            ComparisonSerializer(comparison_matrix(comparison)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[EvaluatorFilterSerializer], responses=EvaluatorSerializer(many=True)
    )
)
class EvaluatorViewSet(TenantViewSet):
    """Checks of a workflow's output that score comparison cells: built-in checks
    configured without code, and LLM judges with a rubric."""

    queryset = Evaluator.objects.select_related("workflow").order_by("workflow__name", "name")
    filter_class = EvaluatorFilterSerializer
    list_serializer_class = EvaluatorSerializer

    @extend_schema(request=NewEvaluatorSerializer, responses={201: EvaluatorSerializer})
    def create(self, request: Request) -> Response:
        body = NewEvaluatorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        evaluator = evaluators.create_evaluator(
            tenant_of(request),
            data["workflow"],
            data["name"],
            data["kind"],
            data["config"],
            author_of(request),
            step=data["step"],
            threshold=data["threshold"],
        )
        return Response(EvaluatorSerializer(evaluator).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=EvaluatorSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(EvaluatorSerializer(self.get_object()).data)

    @extend_schema(
        request=EditEvaluatorSerializer,
        responses=EvaluatorSerializer,
        description="Change its name, step, kind, config or threshold; scores already given "
        "change when their comparison is rescored.",
    )
    def partial_update(self, request: Request, pk: Any) -> Response:
        tenant = tenant_of(request)
        evaluator = evaluators.evaluator_or_404(tenant, pk)
        body = EditEvaluatorSerializer(data=request.data, context={"kind": evaluator.kind})
        body.is_valid(raise_exception=True)
        edited = evaluators.edit_evaluator(tenant, pk, **body.validated_data)
        return Response(EvaluatorSerializer(edited).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        evaluators.delete_evaluator(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=TryEvaluatorSerializer, responses=VerdictSerializer)
    @action(detail=True, methods=["post"], url_path="try")
    def try_it(self, request: Request, pk: Any) -> Response:
        """Evaluate one output given by hand (with its input and expected output) and
        answer the verdict; nothing is stored. A judge is asked for real."""
        body = TryEvaluatorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        verdict = evaluators.try_evaluator(tenant_of(request), pk, Subject(**body.validated_data))
        return Response(VerdictSerializer(verdict).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[PullRequestFilterSerializer], responses=PullRequestSerializer(many=True)
    )
)
class PullRequestViewSet(TenantViewSet):
    """Pull requests that write a variant's values into the code. Opening one needs
    the editor role; the GitHub work runs in the background (watch
    /ws/playground/pull-requests/{id})."""

    queryset = PullRequestRequest.objects.select_related("workflow").order_by("-created_at", "-id")
    filter_class = PullRequestFilterSerializer
    list_serializer_class = PullRequestSerializer

    @extend_schema(responses=PullRequestSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return Response(PullRequestSerializer(self.get_object()).data)

    @extend_schema(
        request=NewPullRequestSerializer,
        responses={201: PullRequestSerializer, 200: PullRequestSerializer},
        description="Queue a pull request for the variant; while one for the same revision "
        "is on its way, that one is answered (200).",
    )
    def create(self, request: Request) -> Response:
        body = NewPullRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pull_request, is_new = request_pull_request(
            tenant_of(request),
            body.validated_data["variant"],
            author_of(request),
            body.validated_data.get("revision"),
        )
        if is_new:
            request_id = str(pull_request.pk)
            transaction.on_commit(lambda: enqueue(tasks.open_pull_request, request_id))
        return Response(
            PullRequestSerializer(pull_request).data,
            status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK,
        )


def verdict_answer(evaluation: Evaluation, status_code: int = status.HTTP_200_OK) -> Response:
    verdict = gates.evaluation_verdict(evaluation)
    body = {"id": evaluation.pk, **verdict.as_json()}
    return Response(EvaluationSerializer(body).data, status=status_code)


@extend_schema_view(
    list=extend_schema(
        parameters=[ThresholdFilterSerializer], responses=ThresholdSerializer(many=True)
    )
)
class ThresholdViewSet(TenantViewSet):
    """How far a workflow's variants may fall behind the baseline on an evaluator's
    pass rate or mean score (or the least they must reach) before the regression gate
    and the pull request's `hatchet/evaluation` status fail."""

    queryset = RegressionThreshold.objects.select_related("workflow", "evaluator")
    filter_class = ThresholdFilterSerializer
    list_serializer_class = ThresholdSerializer

    @extend_schema(
        request=NewThresholdSerializer,
        responses={200: ThresholdSerializer},
        description="Set the bound on an evaluator's metric (replacing the one set before).",
    )
    def create(self, request: Request) -> Response:
        body = NewThresholdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rule = gates.Rule(data["evaluator"], data["metric"], data["max_drop"], data["at_least"])
        threshold = gates.set_threshold(
            tenant_of(request), data["workflow"], rule, author_of(request)
        )
        return Response(ThresholdSerializer(threshold).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        gates.delete_threshold(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvaluationViewSet(JSONAPIView, viewsets.ViewSet):
    """The regression gate over REST: start a comparison of a variant against the
    baseline over a dataset, then read its verdict (regressed or not, and why) once it
    `is_finished`."""

    lookup_value_converter = "uuid"

    @extend_schema(responses=EvaluationSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        return verdict_answer(gates.evaluation_or_404(tenant_of(request), pk))

    @extend_schema(request=NewEvaluationSerializer, responses={201: EvaluationSerializer})
    def create(self, request: Request) -> Response:
        body = NewEvaluationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        evaluation = gates.start_evaluation(
            tenant_of(request),
            data["workflow"],
            data["dataset"],
            data["variant"],
            author_of(request),
            baseline=data["baseline"],
            rules=[gates.Rule(**rule) for rule in data["rules"]],
        )
        return verdict_answer(evaluation, status.HTTP_201_CREATED)


class GitHubConnectionView(JSONAPIView):
    """The repository the tenant's pull requests go to (admins only). The token is
    stored encrypted and never shown."""

    required_role = Role.ADMIN

    @extend_schema(responses=GitHubConnectionSerializer)
    def get(self, request: Request) -> Response:
        connection = connection_for(tenant_of(request))
        return Response(GitHubConnectionSerializer(connection).data)

    @extend_schema(
        request=EditGitHubConnectionSerializer,
        responses={
            200: GitHubConnectionSerializer,
            503: OpenApiResponse(
                ErrorSerializer,
                "A secret was sent but the server has no key to store it with "
                "(HATCHET_ENCRYPTION_KEY, set by the operator).",
            ),
        },
    )
    def put(self, request: Request) -> Response:
        body = EditGitHubConnectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connection = save_connection(tenant_of(request), **body.validated_data)
        return Response(GitHubConnectionSerializer(connection).data)


class GitHubWebhookView(APIView):
    """GitHub's webhook deliveries; believed only when signed (X-Hub-Signature-256)
    with the webhook secret of a connection to the repository they name."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("WebhookAnswer", {"updated": serializers.IntegerField()}),
            401: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        try:
            updated = handle_webhook(
                request.body,
                request.headers.get("X-Hub-Signature-256", ""),
                request.headers.get("X-GitHub-Event", ""),
            )
        except BadSignature as refused:
            return error_response(status.HTTP_401_UNAUTHORIZED, "bad_signature", str(refused))
        except ServerTokenRefused as refused:
            return error_response(status.HTTP_403_FORBIDDEN, "repository_not_allowed", str(refused))
        return Response({"updated": updated})


def bounded_body(parser_context: Any) -> bytes:
    """The request's body as Django reads it: one larger than HATCHET_MAX_MESSAGE_BYTES
    (DATA_UPLOAD_MAX_MEMORY_SIZE) raises RequestDataTooBig, answered 413. DRF's own
    parsers of files read the stream, which no limit bounds."""
    return bytes(parser_context["request"].body)


class UploadBodyParser(parsers.BaseParser):
    """A file sent as the whole body (text/csv, application/x-ndjson): its bytes; the
    upload tells the formats apart and refuses others."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return bounded_body(parser_context)


class BoundedMultiPartParser(parsers.MultiPartParser):
    """A multipart form of at most HATCHET_MAX_MESSAGE_BYTES."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        bounded_body(parser_context)
        return super().parse(stream, media_type, parser_context)


def dataset_answer(
    dataset: Dataset, version: DatasetVersion | None, status_code: int = status.HTTP_200_OK
) -> Response:
    body = DatasetDetailSerializer(dataset, context={"version": version}).data
    return Response(body, status=status_code)


def change_answer(dataset: Dataset, version: DatasetVersion | None, added: int) -> Response:
    """A new version is created (201); with nothing new, the dataset is as it was (200)."""
    return dataset_answer(
        dataset, version, status.HTTP_201_CREATED if added else status.HTTP_200_OK
    )


def version_asked(request: Request) -> int | None:
    query = DatasetVersionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    number: int | None = query.validated_data.get("version")
    return number


@extend_schema_view(
    list=extend_schema(parameters=[DatasetFilterSerializer], responses=DatasetSerializer(many=True))
)
class DatasetViewSet(TenantViewSet):
    """Named sets of a workflow's inputs, each maybe with its expected output. Adding or
    removing rows makes a new version; old versions never change."""

    queryset = Dataset.objects.select_related("workflow").order_by("-updated_at", "-id")
    filter_class = DatasetFilterSerializer
    list_serializer_class = DatasetSerializer

    @extend_schema(request=NewDatasetSerializer, responses={201: DatasetDetailSerializer})
    def create(self, request: Request) -> Response:
        body = NewDatasetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dataset = datasets.create_dataset(
            tenant_of(request),
            data["workflow"],
            data["name"],
            author_of(request),
            description=data["description"],
        )
        return dataset_answer(dataset, None, status.HTTP_201_CREATED)

    @extend_schema(parameters=[DatasetVersionQuerySerializer], responses=DatasetDetailSerializer)
    def retrieve(self, request: Request, pk: Any) -> Response:
        """Every version, and the rows of the newest (or of ?version=N)."""
        number = version_asked(request)
        dataset = datasets.dataset_or_404(tenant_of(request), pk)
        return dataset_answer(dataset, datasets.version_of(dataset, number))

    @extend_schema(request=EditDatasetSerializer, responses=DatasetDetailSerializer)
    def partial_update(self, request: Request, pk: Any) -> Response:
        """Rename or describe it; its rows stay as they are."""
        body = EditDatasetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset = datasets.edit_dataset(tenant_of(request), pk, **body.validated_data)
        return dataset_answer(dataset, datasets.version_of(dataset))

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: Any) -> Response:
        datasets.delete_dataset(tenant_of(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=AddDatasetRowsSerializer,
        responses={201: DatasetDetailSerializer, 200: DatasetDetailSerializer},
        description="Add rows from past runs, a filter over them, a comparison or as given: "
        "a new version (201). A run already in the dataset is not added again; when "
        "nothing is new, the dataset is answered as it is (200).",
    )
    @action(detail=True, methods=["post"])
    def rows(self, request: Request, pk: Any) -> Response:
        body = AddDatasetRowsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant, author = tenant_of(request), author_of(request)
        expected_from_output = data["expected_from_output"]
        if "runs" in data:
            change = datasets.add_runs(
                tenant, pk, data["runs"], author, expected_from_output=expected_from_output
            )
        elif "filter" in data:
            change = datasets.add_filtered_runs(
                tenant, pk, data["filter"], author, expected_from_output=expected_from_output
            )
        elif "comparison" in data:
            change = datasets.add_comparison_rows(tenant, pk, data["comparison"], author)
        else:
            rows = [datasets.NewRow(**row) for row in data["rows"]]
            change = datasets.add_rows(tenant, pk, rows, "rows", author)
        return change_answer(*change)

    @extend_schema(
        request=RemoveDatasetRowsSerializer,
        responses={201: DatasetDetailSerializer},
        description="Remove rows of the newest version: a new version without them.",
    )
    # A POST: a DELETE's body has no meaning in HTTP, and OpenAPI leaves it out.
    @action(detail=True, methods=["post"], url_path="rows/remove")
    def remove_rows(self, request: Request, pk: Any) -> Response:
        body = RemoveDatasetRowsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset, version = datasets.remove_rows(
            tenant_of(request), pk, body.validated_data["rows"], author_of(request)
        )
        return dataset_answer(dataset, version, status.HTTP_201_CREATED)

    @extend_schema(
        request={
            "multipart/form-data": DatasetUploadSerializer,
            "text/csv": OpenApiTypes.STR,
            "application/x-ndjson": OpenApiTypes.STR,
        },
        responses={201: DatasetDetailSerializer},
        description="Add the rows of a file: JSONL (a line per row, {input, expected?, "
        "notes?}) or CSV (a header; an input column of JSON objects or a column per input "
        "field; expected and notes columns if any), as the multipart field `file` or as "
        "the body. The first bad line refuses the whole file.",
    )
    @action(
        detail=True, methods=["post"], parser_classes=[BoundedMultiPartParser, UploadBodyParser]
    )
    def upload(self, request: Request, pk: Any) -> Response:
        if isinstance(request.data, bytes):
            content, media_type, filename = request.data, request.content_type, ""
        else:
            sent = request.data.get("file")
            if sent is None or isinstance(sent, str):
                raise InvalidRequest(
                    "Send the file as the multipart field file, or as the body "
                    "(Content-Type text/csv or application/x-ndjson)."
                )
            content, media_type, filename = sent.read(), sent.content_type, sent.name
        change = datasets.add_upload(
            tenant_of(request), pk, content, media_type or "", filename or "", author_of(request)
        )
        return change_answer(*change)

    @extend_schema(
        parameters=[DatasetVersionQuerySerializer],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: Any) -> HttpResponse:
        """A version's rows (the newest unless ?version=N) as JSONL, a line per row
        {input, expected, notes}: what an upload takes back."""
        number = version_asked(request)
        dataset = datasets.dataset_or_404(tenant_of(request), pk)
        version = datasets.version_of(dataset, number)
        filename = f"{dataset.name}-v{0 if version is None else version.number}.jsonl"
        return HttpResponse(
            datasets.export_jsonl(version),
            content_type="application/x-ndjson; charset=utf-8",
            headers={"Content-Disposition": content_disposition_header(True, filename)},
        )

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The export answers JSONL to any Accept; its errors stay JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "export")
