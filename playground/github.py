"""Pull requests from the playground: a variant's values written into the code with
the codemod, committed on a branch of the variant's own and proposed on GitHub
through PyGithub; then the pull request's state kept up to date (webhook, refresh).
PyGithub and the codemod (libcst) are imported by the work that uses them: together
they were a quarter of a server's start, and a server never needs them to answer.

The tenant's token is read only here, to talk to GitHub; it is never logged, shown or
put into a message (and masked from GitHub's answers should one echo it)."""

import base64
import difflib
import fnmatch
import hashlib
import hmac
import json
import logging
import posixpath
import re
import time
import traceback
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import requests
from channels.layers import get_channel_layer
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hatchet.concurrency import submit
from hatchet.errors import InvalidRequest, NotConfigured, NotFound
from hatchet.models import Tenant
from playground.models import (
    GitHubConnection,
    PlaygroundRun,
    PullRequestRequest,
    PullRequestState,
    PullState,
    Variable,
)
from playground.rewrites import Change, RewriteRefused
from playground.services import Author, get_revision, variant_or_404

if TYPE_CHECKING:
    from github import Github, GithubException
    from github.Repository import Repository

logger = logging.getLogger(__name__)

SHORT_VALUE = 80
REPOSITORY_NAME = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
MAX_BODY = 60_000
RUNS_LINKED = 20
# A request untouched this long lost its task (a worker died): it is taken back, and a
# new click makes a new one. Longer than any wait between attempts.
STALE_AFTER = timedelta(minutes=15)


class GitHubError(Exception):
    """GitHub failed a request; `transient` ones are worth another attempt, after
    `retry_after` seconds when GitHub said how long (a rate limit)."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


class BadSignature(Exception):
    pass


class ServerTokenRefused(Exception):
    """A webhook delivery for a connection that relies on GITHUB_TOKEN for a repository
    the operator no longer lets it serve."""


# The connection's secrets.
def fernet_of(key: str) -> Fernet:
    """Any string the operator chose, made a Fernet key."""
    digest = hashlib.sha256(b"hatchet.github:" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet() -> MultiFernet | None:
    """The first key encrypts, every key decrypts; None without a key."""
    keys = settings.HATCHET_ENCRYPTION_KEYS
    return MultiFernet([fernet_of(key) for key in keys]) if keys else None


def encrypt(secret: str) -> str:
    if not secret:
        return ""
    keys = fernet()
    if keys is None:
        raise NotConfigured(
            "The server cannot store GitHub tokens or webhook secrets: HATCHET_ENCRYPTION_KEY "
            "is not set (the operator sets it)."
        )
    return keys.encrypt(secret.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    keys = fernet()
    try:
        if keys is None:
            raise InvalidToken
        return keys.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Stored under a key the server no longer has: as good as no secret.
        logger.warning(
            "playground: a stored GitHub secret does not decrypt with any of "
            "HATCHET_ENCRYPTION_KEYS; store it again"
        )
        return ""


@dataclass(frozen=True)
class Rotation:
    reencrypted: int
    undecryptable: int


def rotate_secrets() -> Rotation:
    """Every stored secret encrypted again with the first key, so that the keys after
    it can be dropped; those no key decrypts are left as they are and counted."""
    keys = fernet()
    if keys is None:
        raise NotConfigured("HATCHET_ENCRYPTION_KEY is not set: there is no key to rotate to.")
    reencrypted = undecryptable = 0
    fields = ["token_ciphertext", "webhook_secret_ciphertext"]
    for pk in GitHubConnection.objects.values_list("pk", flat=True):
        with transaction.atomic():
            connection = GitHubConnection.objects.select_for_update().get(pk=pk)
            for field in fields:
                ciphertext = getattr(connection, field)
                if not ciphertext:
                    continue
                try:
                    setattr(connection, field, keys.rotate(ciphertext.encode()).decode())
                    reencrypted += 1
                except InvalidToken:
                    undecryptable += 1
            connection.save(update_fields=fields)
    return Rotation(reencrypted, undecryptable)


def may_use_server_token(repository: str) -> bool:
    """Whether the operator lets GITHUB_TOKEN reach the repository (GitHub's names
    ignore case)."""
    return bool(settings.GITHUB_TOKEN) and any(
        fnmatch.fnmatchcase(repository.lower(), pattern.lower())
        for pattern in settings.HATCHET_GITHUB_TOKEN_REPOSITORIES
    )


def server_token_refusal(repository: str) -> str:
    if not settings.GITHUB_TOKEN:
        return "No GitHub token: store one on the connection"
    return (
        f"The server's GITHUB_TOKEN may not be used for {repository}: "
        "HATCHET_GITHUB_TOKEN_REPOSITORIES does not name it; store a token on the connection"
    )


def token_source(connection: GitHubConnection) -> str:
    if connection.token_ciphertext:
        return "stored"
    return "environment" if may_use_server_token(connection.repository) else "none"


def token_of(connection: GitHubConnection) -> str:
    """The connection's own token, else the server's for a repository it may serve."""
    if connection.token_ciphertext:
        return decrypt(connection.token_ciphertext)
    return settings.GITHUB_TOKEN if may_use_server_token(connection.repository) else ""


def save_connection(
    tenant: Tenant,
    *,
    repository: str,
    base_branch: str,
    strip_prefix: str = "",
    add_prefix: str = "",
    token: str | None = None,
    webhook_secret: str | None = None,
) -> GitHubConnection:
    """Connect the tenant's repository, or change the connection. A token or webhook
    secret of None keeps the stored one; "" removes it. A connection without a token
    of its own uses GITHUB_TOKEN, only for a repository the operator named in
    HATCHET_GITHUB_TOKEN_REPOSITORIES."""
    if not re.fullmatch(REPOSITORY_NAME, repository):
        raise InvalidRequest(
            f"repository must be owner/name, not '{repository}'.", {"field": "repository"}
        )
    with transaction.atomic():
        connection = GitHubConnection.objects.select_for_update().filter(
            tenant=tenant
        ).first() or GitHubConnection(tenant=tenant)
        connection.repository = repository
        connection.base_branch = base_branch
        connection.strip_prefix = strip_prefix.strip("/")
        connection.add_prefix = add_prefix.strip("/")
        if token is not None:
            connection.token_ciphertext = encrypt(token)
        if webhook_secret is not None:
            connection.webhook_secret_ciphertext = encrypt(webhook_secret)
        if not connection.token_ciphertext and not may_use_server_token(repository):
            raise InvalidRequest(
                server_token_refusal(repository) + ".",
                {"field": "token", "repository": repository},
            )
        connection.updated_at = timezone.now()
        connection.save()
    return connection


def connection_for(tenant: Tenant) -> GitHubConnection:
    connection = GitHubConnection.objects.filter(tenant=tenant).first()
    if connection is None:
        raise NotFound("No GitHub repository is connected; an admin connects one first.")
    return connection


def client_for(connection: GitHubConnection) -> "Github":
    from github import Auth, Github

    token = token_of(connection)
    if not token:
        # Checked on every use: the operator may have narrowed the repositories the
        # server's token serves since the connection was saved.
        raise GitHubError(server_token_refusal(connection.repository), transient=False)
    # Retries are the task's, where they show; PyGithub's own would wait unseen.
    return Github(
        base_url=settings.GITHUB_API_URL,
        auth=Auth.Token(token),
        retry=None,
        timeout=30,
        seconds_between_requests=None,
        seconds_between_writes=settings.HATCHET_GITHUB_WRITE_INTERVAL or None,
    )


# What GitHub's failures mean.
def said_by(exception: "GithubException") -> str:
    data = exception.data if isinstance(exception.data, dict) else {}
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return ": ".join(part for part in parts if part)


def rate_limit_wait(headers: dict[str, str], now: float) -> float | None:
    """Seconds until GitHub takes requests again, if it said so."""
    if headers.get("retry-after", "").isdigit():
        return float(headers["retry-after"])
    reset = headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return max(float(reset) - now, 0.0) + 1.0
    return None


def classified(exception: "GithubException", doing: str, now: float | None = None) -> GitHubError:
    status = exception.status
    headers = {str(k).lower(): str(v) for k, v in (exception.headers or {}).items()}
    said = said_by(exception)
    answer = f"{status} {said}".strip()
    is_rate_limit = status == 429 or (
        status == 403
        and (
            headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in headers
            or "rate limit" in said.lower()
        )
    )
    if is_rate_limit:
        wait = rate_limit_wait(headers, time.time() if now is None else now)
        when = "" if wait is None else f"; it resets in {wait:.0f} s"
        return GitHubError(
            f"GitHub's rate limit was reached while {doing}{when}",
            transient=True,
            retry_after=wait,
        )
    if status >= 500:
        return GitHubError(f"GitHub failed ({answer}) while {doing}", transient=True)
    if status == 401:
        return GitHubError(
            f"GitHub refused the token ({answer}) while {doing}: store a valid token on "
            "the connection or set GITHUB_TOKEN",
            transient=False,
        )
    if status == 403:
        return GitHubError(
            f"GitHub denied access ({answer}) while {doing}: the token needs write access "
            "to the repository's contents and pull requests",
            transient=False,
        )
    if status == 404:
        return GitHubError(
            f"GitHub found nothing (404) while {doing}: check the repository, the branch, "
            "the path mapping, and that the token can see the repository",
            transient=False,
        )
    if status == 422:
        return GitHubError(f"GitHub rejected the request ({answer}) while {doing}", transient=False)
    return GitHubError(f"GitHub answered {answer} while {doing}", transient=False)


@contextmanager
def doing(what: str) -> Iterator[None]:
    """Say what was being done when GitHub fails."""
    from github import GithubException

    try:
        yield
    except GithubException as exception:
        raise classified(exception, what) from None
    except requests.RequestException as exception:
        raise GitHubError(
            f"GitHub could not be reached while {what} ({type(exception).__name__})",
            transient=True,
        ) from None


def retry_delay(error: GitHubError, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: the rate limit's reset, else doubling from
    2 s; never more than HATCHET_GITHUB_MAX_RETRY_DELAY."""
    wanted = error.retry_after if error.retry_after is not None else 2.0**attempt
    return max(min(wanted, settings.HATCHET_GITHUB_MAX_RETRY_DELAY), 1.0)


# Asking for a pull request.
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


def branch_name(variant_name: str, variant_id: Any) -> str:
    """Stable for a variant: opening again updates its branch."""
    slug = re.sub(r"[^a-z0-9]+", "-", variant_name.lower()).strip("-")[:40] or "variant"
    return f"hatchet/playground/{slug}-{str(variant_id).replace('-', '')[:8]}"


def pull_request_group(request_id: Any) -> str:
    return f"pull_request.{request_id}"


def announce(request: PullRequestRequest) -> None:
    """Tell the pages watching the request, once its change is committed."""
    group, message = pull_request_group(request.pk), request.as_message()

    async def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            await layer.group_send(group, {"type": "pull_request.changed", "message": message})

    transaction.on_commit(lambda: submit(send))


def set_state(request: PullRequestRequest, state: str, reason: str = "", **fields: Any) -> None:
    request.state = state
    request.reason = reason
    request.updated_at = timezone.now()
    for name, value in fields.items():
        setattr(request, name, value)
    with transaction.atomic():
        request.save()
        announce(request)


# The work: variables -> files -> one commit on the branch -> the pull request.
@dataclass(frozen=True)
class VariableChange:
    step: str
    name: str
    path: str
    function: str
    line: int
    old: Any
    new: Any


@dataclass(frozen=True)
class FileChange:
    path: str
    old: str
    new: str

    @property
    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old.splitlines(keepends=True),
                self.new.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True)
class Opened:
    branch: str
    commit_sha: str
    number: int
    url: str


def repository_path(call_path: str, connection: GitHubConnection, name: str) -> str:
    """The call site's path (relative to the worker's project root) in the repository."""
    if not call_path or call_path.startswith(("/", "<")) or re.match(r"^[A-Za-z]:", call_path):
        raise RewriteRefused(
            name,
            f"its call site '{call_path}' is outside the worker's project root; run the "
            "worker with HATCHET_PROJECT_ROOT set to the repository's checkout",
        )
    path = call_path
    strip = connection.strip_prefix
    if strip and (path == strip or path.startswith(strip + "/")):
        path = path[len(strip) :].lstrip("/")
    path = posixpath.normpath(posixpath.join(connection.add_prefix, path))
    if path.startswith("../") or path == "..":
        raise RewriteRefused(name, f"its call site '{call_path}' maps outside the repository")
    return path


def variable_changes(
    request: PullRequestRequest, connection: GitHubConnection
) -> list[VariableChange]:
    """Each override of the request that differs from the default in code, with the
    call site the catalog holds for it."""
    catalog = {(v.step, v.name): v for v in Variable.objects.filter(workflow=request.workflow)}
    changes = []
    for step, values in sorted(request.overrides.items()):
        for name, value in sorted(values.items()):
            variable = catalog.get((step, name))
            site = variable.call_site if variable is not None else {}
            if variable is None or not site.get("path") or not site.get("line"):
                raise RewriteRefused(
                    name, f"the catalog has no call site for {step}.{name}; run the step once"
                )
            if value == variable.default and type(value) is type(variable.default):
                continue
            changes.append(
                VariableChange(
                    step=step,
                    name=name,
                    path=repository_path(str(site["path"]), connection, name),
                    function=str(site.get("function") or ""),
                    line=int(site["line"]),
                    old=variable.default,
                    new=value,
                )
            )
    if not changes:
        raise InvalidRequest(
            f"Variant '{request.variant_name}' r{request.revision} sets every variable to "
            "its default in code: there is nothing to change."
        )
    return changes


def rewritten_files(
    repo: "Repository", base_sha: str, base: str, changes: Sequence[VariableChange]
) -> list[FileChange]:
    """Every file the changes touch, read at the base and rewritten; any refusal
    stops it all before anything is written."""
    from playground.codemod import rewrite_defaults

    by_path: dict[str, list[VariableChange]] = defaultdict(list)
    for change in changes:
        by_path[change.path].append(change)
    files = []
    for path, path_changes in sorted(by_path.items()):
        with doing(f"reading {path} at {base}"):
            contents = repo.get_contents(path, ref=base_sha)
        if isinstance(contents, list):
            raise RewriteRefused(path_changes[0].name, f"{path} is a directory in the repository")
        try:
            old = contents.decoded_content.decode("utf-8")
        except UnicodeDecodeError:
            raise RewriteRefused(path_changes[0].name, f"{path} is not UTF-8 text") from None
        new = rewrite_defaults(
            old, [Change(c.name, c.function, c.line, c.new) for c in path_changes]
        )
        if new != old:
            files.append(FileChange(path, old, new))
    if not files:
        raise RewriteRefused(
            ", ".join(c.name for c in changes), f"the code at {base} already has these values"
        )
    return files


def shortened(value: Any, limit: int = SHORT_VALUE) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pull_request_title(request: PullRequestRequest, changes: Sequence[VariableChange]) -> str:
    names = ", ".join(f"{c.step}.{c.name}" for c in changes)
    title = f"Playground: {names} from variant '{request.variant_name}'"
    return title if len(title) <= 120 else title[:119] + "…"


def runs_that_tried(request: PullRequestRequest) -> list[str]:
    if request.variant_id is None:
        return []
    records = (
        PlaygroundRun.objects.filter(variant_id=request.variant_id)
        .select_related("run")
        .order_by("-created_at")[:RUNS_LINKED]
    )
    return [
        f"- [{record.kind} {str(record.run_id)[:8]}]"
        f"({settings.HATCHET_PUBLIC_URL}/runs/{record.run_id}): "
        f"{record.run.status}, revision {record.variant_revision}, "
        f"{record.created_at:%Y-%m-%d %H:%M} UTC"
        for record in records
    ]


def table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def pull_request_body(
    request: PullRequestRequest, changes: Sequence[VariableChange], files: Sequence[FileChange]
) -> str:
    lines = [
        f"Opened from the Hatchet playground by {request.created_by_name}: variant "
        f"**{request.variant_name}** (revision {request.revision}) of workflow "
        f"**{request.workflow.name}**.",
        "",
        "| variable | file | old | new |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.step}.{c.name}` | `{c.path}` | {table_cell(shortened(c.old))} | "
        f"{table_cell(shortened(c.new))} |"
        for c in changes
    ]
    runs = runs_that_tried(request)
    lines += ["", "Playground runs that tried this variant:", *(runs or ["- none yet"])]
    diff = "".join(f.diff for f in files)
    fence = "```"
    while fence in diff:
        fence += "`"
    lines += ["", "<details><summary>Full diff</summary>", "", f"{fence}diff", diff.rstrip("\n")]
    lines += [fence, "", "</details>"]
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 80] + f"\n{fence}\n\n(The diff is cut here; see the commit.)\n"
    return body


def commit_message(request: PullRequestRequest, changes: Sequence[VariableChange]) -> str:
    lines = [f"Playground: variant '{request.variant_name}' r{request.revision}", ""]
    lines += [f"- {c.step}.{c.name}: {shortened(c.old)} -> {shortened(c.new)}" for c in changes]
    return "\n".join(lines) + "\n"


def push_pull_request(
    github: "Github",
    connection: GitHubConnection,
    request: PullRequestRequest,
    changes: Sequence[VariableChange],
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
    title, body = pull_request_title(request, changes), pull_request_body(request, changes, files)
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


def masked(message: str, token: str) -> str:
    return message.replace(token, "[token]") if token else message


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


def announce_now(request: PullRequestRequest) -> None:
    with transaction.atomic():
        announce(request)


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
        opened, files = push_pull_request(client_for(connection), connection, request, changes)
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
    return None


# The pull request's later life.
def pull_state(state: str, merged: bool) -> str:
    if merged:
        return PullState.MERGED
    return PullState.OPEN if state == "open" else PullState.CLOSED


def record_pull_state(tenant_id: Any, number: int, state: str) -> int:
    """Every opened request of the tenant's pull request `number` takes `state`."""
    requests_of_pull = list(
        PullRequestRequest.objects.filter(
            tenant_id=tenant_id, pr_number=number, state=PullRequestState.OPENED
        ).exclude(pr_state=state)
    )
    for request in requests_of_pull:
        request.pr_state = state
        request.updated_at = timezone.now()
        with transaction.atomic():
            request.save(update_fields=["pr_state", "updated_at"])
            announce(request)
    return len(requests_of_pull)


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def handle_webhook(body: bytes, signature: str, event: str) -> int:
    """A delivery of GitHub's webhook; only one signed with the secret of a connection
    to the repository it names is believed. Returns the requests updated."""
    try:
        payload = json.loads(body)
        repository = str(payload["repository"]["full_name"])
    except (ValueError, KeyError, TypeError):
        raise BadSignature("The delivery is not a signed repository event.") from None
    connections = GitHubConnection.objects.filter(repository__iexact=repository).exclude(
        webhook_secret_ciphertext=""
    )
    signed = [
        c
        for c in connections
        if (secret := decrypt(c.webhook_secret_ciphertext))
        and hmac.compare_digest(signature_of(secret, body), signature or "")
    ]
    if not signed:
        raise BadSignature("The signature does not match the webhook secret.")
    signed = [c for c in signed if c.token_ciphertext or may_use_server_token(c.repository)]
    if not signed:
        raise ServerTokenRefused(server_token_refusal(repository) + ".")
    if event != "pull_request":
        return 0
    pull = payload.get("pull_request") or {}
    if not isinstance(pull.get("number"), int):
        return 0
    state = pull_state(str(pull.get("state")), bool(pull.get("merged")))
    return sum(record_pull_state(c.tenant_id, pull["number"], state) for c in signed)


def refresh_pull_request_states() -> int:
    """Look at every open pull request on GitHub; returns the requests updated."""
    numbers: dict[Any, set[int]] = defaultdict(set)
    for tenant_id, number in PullRequestRequest.objects.filter(
        state=PullRequestState.OPENED, pr_state=PullState.OPEN, pr_number__isnull=False
    ).values_list("tenant_id", "pr_number"):
        if number is not None:
            numbers[tenant_id].add(number)
    updated = 0
    for connection in GitHubConnection.objects.filter(tenant_id__in=list(numbers)):
        token = token_of(connection)
        try:
            github = client_for(connection)
            with doing(f"opening the repository {connection.repository}"):
                repo = github.get_repo(connection.repository)
            for number in sorted(numbers[connection.tenant_id]):
                with doing(f"reading pull request #{number}"):
                    pull = repo.get_pull(number)
                    state = pull_state(pull.state, pull.merged)
                updated += record_pull_state(connection.tenant_id, number, state)
        except GitHubError as error:
            logger.warning(
                "playground: refreshing the pull requests of %s: %s",
                connection.repository,
                masked(error.message, token),
            )
    return updated
