"""Asking for a pull request (queued, one per variant revision at a time), and the work
of one attempt: variables -> files -> one commit on the branch -> the pull request."""

import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hatchet.errors import InvalidRequest
from hatchet.models import Tenant
from playground.gates import GateVerdict
from playground.github.changes import FileChange, VariableChange, rewritten_files, variable_changes
from playground.github.client import GitHubError, client_for, doing, masked, retry_delay
from playground.github.connections import connection_for, token_of
from playground.github.evidence import latest_evidence, queue_evidence
from playground.github.states import announce, announce_now, set_state
from playground.github.texts import (
    branch_name,
    commit_message,
    pull_request_body,
    pull_request_title,
)
from playground.models import GitHubConnection, PullRequestRequest, PullRequestState, PullState
from playground.rewrites import RewriteRefused
from playground.services import Author, get_revision, variant_or_404

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

logger = logging.getLogger(__name__)

# A request untouched this long lost its task (a worker died): it is taken back, and a
# new click makes a new one. Longer than any wait between attempts.
STALE_AFTER = timedelta(minutes=15)


def request_pull_request(
    tenant: Tenant, variant_id: Any, author: Author, revision: int | None = None
) -> tuple[PullRequestRequest, bool]:
    """A pull request for the variant (at its current or a past revision), queued; a
    click while one for the same revision is still on its way gets that one. Returns
    the request and whether it is new; the caller queues the work of a new one."""
    connection_for(tenant)
    with transaction.atomic():
        variant = variant_or_404(tenant, variant_id, lock=True)
        number = variant.revision if revision is None else revision
        overrides = variant.overrides
        if number != variant.revision:
            overrides = get_revision(variant, number).overrides
        if not overrides:
            raise InvalidRequest(
                f"Variant '{variant.name}' overrides nothing at revision {number}: there is "
                "nothing to write into the code."
            )
        pending = (
            PullRequestRequest.objects.filter(
                variant=variant,
                revision=number,
                state__in=[PullRequestState.QUEUED, PullRequestState.RUNNING],
                updated_at__gte=timezone.now() - STALE_AFTER,
            )
            .order_by("created_at")
            .first()
        )
        if pending is not None:
            return pending, False
        request = PullRequestRequest.objects.create(
            tenant=tenant,
            workflow=variant.workflow,
            variant=variant,
            variant_name=variant.name,
            revision=number,
            overrides=overrides,
            branch=branch_name(variant.name, variant.pk),
            created_by=author.user,
            created_by_name=author.name,
        )
        announce(request)
    return request, True


@dataclass(frozen=True)
class Opened:
    branch: str
    commit_sha: str
    number: int
    url: str


def push_pull_request(
    github: "Github",
    connection: GitHubConnection,
    request: PullRequestRequest,
    changes: Sequence[VariableChange],
    evidence: GateVerdict | None = None,
) -> tuple[Opened, list[FileChange]]:
    from github import InputGitTreeElement

    base = connection.base_branch
    owner = connection.repository.split("/")[0]
    with doing(f"opening the repository {connection.repository}"):
        repo = github.get_repo(connection.repository)
    with doing(f"reading the branch {base}"):
        base_sha = repo.get_git_ref(f"heads/{base}").object.sha
        base_commit = repo.get_git_commit(base_sha)
    files = rewritten_files(repo, base_sha, base, changes)
    branch = request.branch
    with doing(f"writing the commit for {branch}"):
        elements = [
            InputGitTreeElement(
                f.path, "100644", "blob", sha=repo.create_git_blob(f.new, "utf-8").sha
            )
            for f in files
        ]
        tree = repo.create_git_tree(elements, base_tree=base_commit.tree)
        commit = repo.create_git_commit(commit_message(request, changes), tree, [base_commit])
    with doing(f"pointing the branch {branch} at the commit"):
        point_branch(repo, branch, commit.sha)
    title = pull_request_title(request, changes)
    body = pull_request_body(request, changes, files, evidence)
    with doing(f"opening the pull request from {branch}"):
        existing = list(repo.get_pulls(state="open", head=f"{owner}:{branch}", base=base))
        if existing:
            pull = existing[0]
            pull.edit(title=title, body=body)
        else:
            pull = repo.create_pull(base=base, head=branch, title=title, body=body)
    return Opened(branch, commit.sha, pull.number, pull.html_url), files


def point_branch(repo: "Repository", branch: str, sha: str) -> None:
    """The branch holds exactly the one commit over the base: made, or moved there."""
    from github import GithubException

    try:
        ref = repo.get_git_ref(f"heads/{branch}")
        ref.object  # noqa: B018 (fetches the ref: a missing branch is a 404 here)
    except GithubException as exception:
        if exception.status != 404:
            raise
        repo.create_git_ref(f"refs/heads/{branch}", sha)
        return
    ref.edit(sha, force=True)


def claim(request_id: Any, attempt: int) -> bool:
    """Take the request for this attempt, unless another delivery of the task has it
    (a running request whose worker vanished is taken back once it is stale)."""
    now = timezone.now()
    return bool(
        PullRequestRequest.objects.filter(pk=request_id)
        .filter(
            Q(state=PullRequestState.QUEUED)
            | Q(state=PullRequestState.RUNNING, updated_at__lt=now - STALE_AFTER)
        )
        .update(state=PullRequestState.RUNNING, reason="", attempts=attempt, updated_at=now)
    )


def work_on_pull_request(request_id: Any, attempt: int = 1) -> float | None:
    """One attempt at a queued request. Returns the seconds to wait before the next
    attempt when GitHub failed transiently, else None (opened, or failed for good)."""
    if not claim(request_id, attempt):
        return None
    request = PullRequestRequest.objects.select_related("tenant", "workflow").get(pk=request_id)
    announce_now(request)
    connection = GitHubConnection.objects.filter(tenant_id=request.tenant_id).first()
    token = "" if connection is None else token_of(connection)
    try:
        if connection is None:
            raise InvalidRequest("No GitHub repository is connected any more.")
        changes = variable_changes(request, connection)
        evidence = latest_evidence(request)
        opened, files = push_pull_request(
            client_for(connection), connection, request, changes, evidence
        )
    except (RewriteRefused, InvalidRequest) as refused:
        set_state(request, PullRequestState.FAILED, masked(refused.message, token))
        return None
    except GitHubError as error:
        message = masked(error.message, token)
        if error.transient and attempt < settings.HATCHET_GITHUB_MAX_ATTEMPTS:
            delay = retry_delay(error, attempt)
            set_state(
                request,
                PullRequestState.QUEUED,
                f"{message}; trying again in {delay:.0f} s "
                f"(attempt {attempt} of {settings.HATCHET_GITHUB_MAX_ATTEMPTS}).",
            )
            return delay
        if error.transient:
            message += f"; gave up after {attempt} attempts"
        set_state(request, PullRequestState.FAILED, message + ".")
        return None
    except Exception as exception:
        logger.error(
            "playground: pull request %s failed unexpectedly:\n%s",
            request.pk,
            masked("".join(traceback.format_exception(exception)), token),
        )
        set_state(
            request,
            PullRequestState.FAILED,
            "An unexpected error stopped the pull request; the server log has it.",
        )
        return None
    set_state(
        request,
        PullRequestState.OPENED,
        branch=opened.branch,
        commit_sha=opened.commit_sha,
        pr_number=opened.number,
        pr_url=opened.url,
        pr_state=PullState.OPEN,
        opened_at=timezone.now(),
        changes=[
            {"step": c.step, "name": c.name, "path": c.path, "old": c.old, "new": c.new}
            for c in changes
            if any(f.path == c.path for f in files)
        ],
    )
    if evidence is not None:
        # The body has it; the comment and the commit status follow.
        queue_evidence(request)
    return None
