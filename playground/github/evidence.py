"""The evidence on a variant's pull request: the latest finished comparison of the
variant (at the pull request's revision) against the defaults in code, judged by the
regression gate, in the pull request's body, in one comment kept up to date (found
again by its hidden marker), and as the commit status `hatchet/evaluation` on the
pull request's head commit. Posting it never holds up a comparison: it runs in a
Celery task, tried again while GitHub fails transiently, and a failure is logged."""

import logging
import traceback
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from hatchet.celery import enqueue
from playground.gates import GateVerdict, gate_verdict
from playground.github.client import GitHubError, client_for, doing, masked, retry_delay
from playground.github.connections import token_of
from playground.github.texts import comparison_url, evidence_markdown
from playground.models import (
    Comparison,
    GitHubConnection,
    PlaygroundRun,
    PullRequestRequest,
    PullRequestState,
    PullState,
    Score,
    ScoreStatus,
)
from playground.signals import cells_scored
from workflows.models import WORKFLOW_RUN_TERMINAL

if TYPE_CHECKING:
    from github import Github

logger = logging.getLogger(__name__)

MARKER = "<!-- hatchet:evaluation -->"
STATUS_CONTEXT = "hatchet/evaluation"
# How many of the workflow's newest comparisons are looked through for the latest
# evidence of a variant.
COMPARISONS_SCANNED = 50
# GitHub cuts a status's description at 140 characters.
STATUS_DESCRIPTION = 140


def variant_column(comparison: Comparison, variant_id: Any, revision: int) -> int | None:
    """The comparison's column of the variant at that revision, if it is not the
    baseline and the baseline is the defaults in code."""
    baseline = comparison.columns[comparison.baseline]
    if baseline.get("variant") or baseline.get("overrides"):
        return None
    for index, column in enumerate(comparison.columns):
        if (
            index != comparison.baseline
            and column.get("variant") == str(variant_id)
            and column.get("revision") == revision
        ):
            return index
    return None


def latest_evidence(request: PullRequestRequest) -> GateVerdict | None:
    """The gate's verdict on the newest comparison of the pull request's variant, at
    its revision, against the defaults in code, whose cells are all run and scored."""
    if request.variant_id is None:
        return None
    comparisons = Comparison.objects.filter(workflow_id=request.workflow_id).select_related(
        "workflow"
    )
    for comparison in comparisons.order_by("-created_at")[:COMPARISONS_SCANNED]:
        column = variant_column(comparison, request.variant_id, request.revision)
        if column is None:
            continue
        verdict = gate_verdict(comparison, column)
        if verdict.is_finished:
            return verdict
    return None


def is_scored(comparison: Comparison) -> bool:
    """Every cell's run finished and every evaluator's score on it is in (counted, not
    read: this runs on every scoring of every comparison with a pull request)."""
    cells = PlaygroundRun.objects.filter(comparison=comparison)
    if cells.exclude(run__status__in=WORKFLOW_RUN_TERMINAL).exists():
        return False
    scored = Score.objects.filter(cell__comparison=comparison).exclude(status=ScoreStatus.PENDING)
    return scored.count() >= cells.count() * comparison.evaluators.count()


def queue_evidence_for(comparison_id: Any) -> list[PullRequestRequest]:
    """Once the comparison is run and scored, queue the evidence of every open pull
    request of a variant it compared with the defaults in code; once per comparison
    and pull request however often its cells are announced scored. Returns those."""
    comparison = Comparison.objects.filter(pk=comparison_id).first()
    if comparison is None:
        return []
    variants = {c["variant"] for c in comparison.columns if c.get("variant")}
    requests = [
        request
        for request in PullRequestRequest.objects.filter(
            variant_id__in=variants, state=PullRequestState.OPENED, pr_state=PullState.OPEN
        )
        if variant_column(comparison, request.variant_id, request.revision) is not None
    ]
    if not requests or not is_scored(comparison):
        return []
    queued = []
    for request in requests:
        claimed = (
            PullRequestRequest.objects.filter(pk=request.pk)
            .exclude(evidence_comparison=comparison.pk)
            .update(evidence_comparison=comparison.pk)
        )
        if claimed:
            queue_evidence(request)
            queued.append(request)
    return queued


def queue_evidence(request: PullRequestRequest) -> None:
    """After commit: the task reads what this transaction wrote."""
    from playground.tasks import post_evidence  # the task's body is in this module

    request_id = str(request.pk)
    transaction.on_commit(lambda: enqueue(post_evidence, request_id))


def on_cells_scored(comparison_id: Any, **_kwargs: Any) -> None:
    try:
        queue_evidence_for(comparison_id)
    except Exception:
        # Evidence is a by-product: scoring, and whoever scored, go on regardless.
        logger.exception("playground: queueing the evidence of comparison %s failed", comparison_id)


def subscribe_to_scores() -> None:
    cells_scored.connect(on_cells_scored, dispatch_uid="playground.evidence")


def status_of(verdict: GateVerdict) -> tuple[str, str]:
    """The commit status's state and description."""
    if not verdict.regressed:
        return "success", "No regression against the defaults in code."
    description = "Regressed: " + "; ".join(verdict.reasons)
    if len(description) > STATUS_DESCRIPTION:
        description = description[: STATUS_DESCRIPTION - 1] + "…"
    return "failure", description


def post_evidence(
    github: "Github", connection: GitHubConnection, number: int, sha: str, verdict: GateVerdict
) -> None:
    """The evidence comment on pull request `number` (made, or edited where the marker
    is) and the commit status on `sha`."""
    body = f"{MARKER}\n{evidence_markdown(verdict)}"
    with doing(f"opening the repository {connection.repository}"):
        repo = github.get_repo(connection.repository)
    with doing(f"reading pull request #{number}"):
        pull = repo.get_pull(number)
    with doing(f"reading the comments of pull request #{number}"):
        marked = [c for c in pull.get_issue_comments() if MARKER in (c.body or "")]
    with doing(f"writing the evaluation comment on pull request #{number}"):
        if not marked:
            pull.create_issue_comment(body)
        elif marked[0].body != body:
            marked[0].edit(body)
    state, description = status_of(verdict)
    with doing(f"setting the status {STATUS_CONTEXT} of {sha[:12]}"):
        repo.get_commit(sha).create_status(
            state,
            target_url=comparison_url(verdict.comparison),
            description=description,
            context=STATUS_CONTEXT,
        )


def work_on_evidence(request_id: Any, attempt: int = 1) -> float | None:
    """One attempt at posting the latest evidence of an opened pull request. Returns
    the seconds to wait before the next attempt when GitHub failed transiently."""
    request = PullRequestRequest.objects.filter(pk=request_id).first()
    if request is None or request.state != PullRequestState.OPENED or request.pr_number is None:
        return None
    verdict = latest_evidence(request)
    connection = GitHubConnection.objects.filter(tenant_id=request.tenant_id).first()
    if verdict is None or connection is None:
        return None
    token = token_of(connection)
    try:
        post_evidence(
            client_for(connection), connection, request.pr_number, request.commit_sha, verdict
        )
    except GitHubError as error:
        message = masked(error.message, token)
        if error.transient and attempt < settings.HATCHET_GITHUB_MAX_ATTEMPTS:
            delay = retry_delay(error, attempt)
            logger.info("playground: evidence on %s: %s; trying again", request.pr_url, message)
            return delay
        logger.warning("playground: the evidence on %s was not posted: %s", request.pr_url, message)
    except Exception as exception:
        logger.error(
            "playground: the evidence on %s failed unexpectedly:\n%s",
            request.pr_url,
            masked("".join(traceback.format_exception(exception)), token),
        )
    return None
