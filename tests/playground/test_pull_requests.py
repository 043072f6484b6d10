"""Pull requests from the playground, against a loopback GitHub backed by a real git
repository: the branch holds one commit with exactly the expected change, opening
again updates it, GitHub's failures are retried or reported, and the pull request's
later state arrives by webhook or refresh."""

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.github.client import GitHubError, rate_limit_wait, retry_delay
from playground.github.connections import save_connection
from playground.github.pull_requests import request_pull_request, work_on_pull_request
from playground.github.refresh import refresh_pull_request_states
from playground.github.texts import branch_name
from playground.models import GitHubConnection, PullRequestRequest, Variable
from playground.services import Author
from playground.tasks import open_pull_request
from tests.e2e.live import wait_for
from tests.factories import (
    ENCRYPTION_KEY,
    GITHUB_TOKEN,
    SUPPORT_PY,
    WEBHOOK_SECRET,
    connect,
    member_client,
)
from tests.github_server import GitRepository, LoopbackGitHub
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(
    tenant: Tenant,
    source: WorkflowRun,  # noqa: ARG001 (the run must exist)
    github: LoopbackGitHub,
    repo: Any,  # noqa: ARG001 (the repository must exist)
) -> APIClient:
    """An editor of a tenant whose Support workflow ran once, connected to acme/app."""
    connect(tenant, github)
    return member_client(tenant, "editor", username="eve")


def create_variant(api: APIClient, overrides: dict[str, Any], name: str = "brief") -> str:
    answer = api.post(
        "/api/v1/playground/variants",
        {"workflow": "Support", "name": name, "overrides": overrides},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    return str(answer.json()["id"])


def click(api: APIClient, variant_id: str) -> Any:
    return api.post("/api/v1/playground/pull-requests", {"variant": variant_id}, format="json")


def run_task(request_id: Any) -> PullRequestRequest:
    open_pull_request.apply(args=(str(request_id),))
    return PullRequestRequest.objects.get(pk=request_id)


def run_attempts(request_id: Any) -> PullRequestRequest:
    """The attempts at the request one after another, as the task makes them, but
    without the waits between them (the tests of the waits go through the task)."""
    attempt = 1
    while work_on_pull_request(request_id, attempt=attempt) is not None:
        attempt += 1
    return PullRequestRequest.objects.get(pk=request_id)


def request_when(request_id: Any, condition: Callable[[PullRequestRequest], bool]) -> Any:
    """The request once `condition` holds for it (it changes in the background)."""
    return wait_for(
        lambda: condition(request := PullRequestRequest.objects.get(pk=request_id)) and request
    )


def changed_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]


BRIEF = {"draft": {"system_prompt": "Be brief.\nSign as Ada.", "temperature": 0.7}}
BRIEF_LINES = [
    '-        system = context.playground("system_prompt", "You are kind.")  # the voice',
    '-        temperature = context.playground("temperature", 0.3)',
    '+        system = context.playground("system_prompt", """Be brief.',
    '+Sign as Ada.""")  # the voice',
    '+        temperature = context.playground("temperature", 0.7)',
]


def test_a_variant_becomes_one_commit_on_its_own_branch_and_a_pull_request(
    editor: APIClient, source: WorkflowRun, github: LoopbackGitHub, repo: GitRepository
) -> None:
    variant = create_variant(editor, BRIEF)
    tried = editor.post(
        "/api/v1/playground/runs/replay",
        {"source_run": str(source.pk), "variant": variant},
        format="json",
    ).json()["run_id"]
    main = repo.head("main")

    answer = click(editor, variant)
    assert answer.status_code == 201
    assert (answer.json()["state"], answer.json()["variant_name"]) == ("queued", "brief")
    request = run_task(answer.json()["id"])

    assert (request.state, request.reason, request.attempts) == ("opened", "", 1)
    assert request.branch == f"hatchet/playground/brief-{variant.replace('-', '')[:8]}"
    assert repo.commits_between("main", request.branch) == [request.commit_sha]
    assert repo.parents_of(request.commit_sha) == [main]
    assert changed_lines(repo.diff("main", request.branch)) == BRIEF_LINES
    assert (
        repo.file_at(request.branch, "support.py")
        == SUPPORT_PY.replace('"You are kind.")', '"""Be brief.\nSign as Ada.""")')
        .replace("0.3)", "0.7)")
        .encode()
    )
    assert repo.message_of(request.commit_sha) == (
        "Playground: variant 'brief' r1\n\n"
        '- draft.system_prompt: "You are kind." -> "Be brief.\\nSign as Ada."\n'
        "- draft.temperature: 0.3 -> 0.7"
    )
    [pull] = github.pulls.values()
    assert (pull.number, pull.head, pull.base) == (request.pr_number, request.branch, "main")
    assert pull.title == "Playground: draft.system_prompt, draft.temperature from variant 'brief'"
    assert (
        '| `draft.system_prompt` | `support.py` | "You are kind." | "Be brief.\\nSign as Ada." |'
        in pull.body
    )
    assert "| `draft.temperature` | `support.py` | 0.3 | 0.7 |" in pull.body
    assert f"(http://127.0.0.1:8080/runs/{tried}): " in pull.body
    assert all(line in pull.body for line in BRIEF_LINES)

    shown = editor.get(f"/api/v1/playground/pull-requests/{request.pk}").json()
    assert (shown["state"], shown["pr_state"], shown["pr_number"]) == ("opened", "open", 1)
    assert shown["pr_url"] == "https://github.example/acme/app/pull/1"
    assert shown["changes"] == [
        {
            "step": "draft",
            "name": "system_prompt",
            "path": "support.py",
            "old": "You are kind.",
            "new": "Be brief.\nSign as Ada.",
        },
        {"step": "draft", "name": "temperature", "path": "support.py", "old": 0.3, "new": 0.7},
    ]


def test_opening_again_updates_the_branch_and_the_pull_request(
    editor: APIClient, github: LoopbackGitHub, repo: GitRepository
) -> None:
    variant = create_variant(editor, BRIEF)
    first = run_task(click(editor, variant).json()["id"])
    # Meanwhile the code moved on, and so did the variant.
    main = repo.commit_files("main", {"README.md": "# app\n\nNow with docs.\n"})
    editor.patch(
        f"/api/v1/playground/variants/{variant}",
        {"overrides": {"draft": {"temperature": 0.9, "max_words": 120}}},
        format="json",
    )

    second = run_task(click(editor, variant).json()["id"])

    assert second.state == "opened"
    assert (second.branch, second.pr_number) == (first.branch, first.pr_number)
    assert repo.commits_between("main", second.branch) == [second.commit_sha]
    assert repo.parents_of(second.commit_sha) == [main]
    assert changed_lines(repo.diff("main", second.branch)) == [
        '-        temperature = context.playground("temperature", 0.3)',
        '-        max_words = context.playground("max_words", 80)  # hard limit',
        '+        temperature = context.playground("temperature", 0.9)',
        '+        max_words = context.playground("max_words", 120)  # hard limit',
    ]
    [pull] = github.pulls.values()
    assert pull.title == "Playground: draft.max_words, draft.temperature from variant 'brief'"
    assert "| `draft.temperature` | `support.py` | 0.3 | 0.9 |" in pull.body
    assert github.count("POST", "/repos/acme/app/pulls") == 1
    assert github.count("PATCH", "/repos/acme/app/pulls/1") == 1


def test_duplicate_clicks_give_one_request_and_one_pull_request(
    editor: APIClient, github: LoopbackGitHub, repo: GitRepository
) -> None:
    variant = create_variant(editor, BRIEF)
    first, second = click(editor, variant), click(editor, variant)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]

    run_task(first.json()["id"])
    run_task(first.json()["id"])  # the task delivered twice

    assert PullRequestRequest.objects.count() == 1
    assert list(github.pulls) == [1]
    assert github.count("POST", "/repos/acme/app/git/commits") == 1
    assert repo.branches() == sorted(["main", PullRequestRequest.objects.get().branch])


@pytest.mark.usefixtures("repo")
def test_a_request_another_delivery_is_working_on_is_left_alone_until_stale(
    editor: APIClient, github: LoopbackGitHub
) -> None:
    request_id = click(editor, create_variant(editor, BRIEF)).json()["id"]
    PullRequestRequest.objects.filter(pk=request_id).update(state="running", attempts=1)

    assert work_on_pull_request(request_id, attempt=1) is None
    assert github.requests == []

    # Its worker died an hour ago: the next delivery takes it back, and a click that
    # came meanwhile would have made a new request.
    PullRequestRequest.objects.filter(pk=request_id).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    assert work_on_pull_request(request_id, attempt=1) is None
    assert PullRequestRequest.objects.get(pk=request_id).state == "opened"
    assert list(github.pulls) == [1]


@pytest.mark.parametrize(
    ("method", "path", "how"),
    [
        ("POST", "/repos/acme/app/git/commits", "502"),
        ("GET", "/repos/acme/app/contents/support.py", "rate limit"),
        ("POST", "/repos/acme/app/pulls", "503"),
    ],
)
def test_transient_failures_are_retried(
    editor: APIClient, github: LoopbackGitHub, repo: GitRepository, method: str, path: str, how: str
) -> None:
    if how == "rate limit":
        github.rate_limit(method, path, reset_in=30, times=2)
    else:
        github.fail(method, path, int(how), times=2)
    variant = create_variant(editor, BRIEF)

    request = run_attempts(click(editor, variant).json()["id"])

    assert (request.state, request.attempts) == ("opened", 3)
    assert github.count(method, path) == 3
    assert list(github.pulls) == [1]
    assert repo.commits_between("main", request.branch) == [request.commit_sha]
    assert changed_lines(repo.diff("main", request.branch)) == BRIEF_LINES


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("repo", "task_runner")
def test_the_click_is_answered_at_once_and_github_is_worked_on_in_the_background(
    editor: APIClient, github: LoopbackGitHub
) -> None:
    release = github.hold("POST", "/repos/acme/app/pulls")
    variant = create_variant(editor, BRIEF)
    try:
        answer = click(editor, variant)

        assert (answer.status_code, answer.json()["state"]) == (201, "queued")
        request_id = answer.json()["id"]
        # The work goes on without the request: it reached the last call, which waits.
        wait_for(lambda: github.count("POST", "/repos/acme/app/pulls") == 1)
        assert PullRequestRequest.objects.get(pk=request_id).state == "running"
        assert github.pulls == {}
    finally:
        release.set()

    opened = request_when(request_id, lambda request: request.state == "opened")
    assert (opened.attempts, opened.pr_number) == (1, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("repo", "task_runner")
def test_a_retry_waits_as_long_as_github_asked(editor: APIClient, github: LoopbackGitHub) -> None:
    github.fail("POST", "/repos/acme/app/pulls", 429, headers={"Retry-After": "2"})
    variant = create_variant(editor, BRIEF)

    request_id = click(editor, variant).json()["id"]

    waiting = request_when(request_id, lambda request: request.reason != "")
    refused_at = time.monotonic()
    assert (waiting.state, waiting.attempts) == ("queued", 1)
    assert waiting.reason.endswith("; trying again in 2 s (attempt 1 of 5).")
    assert github.count("POST", "/repos/acme/app/pulls") == 1
    wait_for(lambda: github.count("POST", "/repos/acme/app/pulls") == 2)
    assert 1.8 <= time.monotonic() - refused_at < 5
    opened = request_when(request_id, lambda request: request.state == "opened")
    assert (opened.attempts, list(github.pulls)) == (2, [1])


@pytest.mark.usefixtures("repo")
def test_a_rate_limit_waits_for_its_reset_time_capped(
    editor: APIClient, github: LoopbackGitHub, settings: Any
) -> None:
    variant = create_variant(editor, BRIEF)
    request_id = click(editor, variant).json()["id"]
    github.rate_limit("GET", "/repos/acme/app/contents/support.py", reset_in=40)

    delay = work_on_pull_request(request_id, attempt=1)

    assert delay is not None
    assert 39 <= delay <= 42
    request = PullRequestRequest.objects.get(pk=request_id)
    assert request.state == "queued"
    assert request.reason.startswith(
        "GitHub's rate limit was reached while reading support.py at main; it resets in "
    )
    assert request.reason.endswith(f"trying again in {delay:.0f} s (attempt 1 of 5).")

    settings.HATCHET_GITHUB_MAX_RETRY_DELAY = 60
    github.rate_limit("GET", "/repos/acme/app/contents/support.py", reset_in=3600)
    assert work_on_pull_request(request_id, attempt=2) == 60
    assert work_on_pull_request(request_id, attempt=3) is None
    assert PullRequestRequest.objects.get(pk=request_id).state == "opened"


def test_transient_failures_give_up_after_the_last_attempt_having_written_nothing(
    editor: APIClient, github: LoopbackGitHub, repo: GitRepository
) -> None:
    github.fail("GET", "/repos/acme/app/git/ref/heads/main", 500, times=10)
    variant = create_variant(editor, BRIEF)

    request = run_attempts(click(editor, variant).json()["id"])

    assert (request.state, request.attempts) == ("failed", 5)
    assert request.reason == (
        "GitHub failed (500 Server Error) while reading the branch main; gave up after 5 attempts."
    )
    assert github.count("GET", "/repos/acme/app/git/ref/heads/main") == 5
    assert repo.branches() == ["main"]


@pytest.mark.parametrize(
    ("case", "method", "path", "reason"),
    [
        (
            "401",
            "GET",
            "/repos/acme/app",
            "GitHub refused the token (401 Bad credentials) while opening the repository "
            "acme/app: store a valid token on the connection or set GITHUB_TOKEN.",
        ),
        (
            "403",
            "POST",
            "/repos/acme/app/git/blobs",
            "GitHub denied access (403 Resource not accessible by integration) while writing "
            "the commit for hatchet/playground/brief-",
        ),
        (
            "404",
            "GET",
            "/repos/acme/gone",
            "GitHub found nothing (404) while opening the repository acme/gone: check the "
            "repository, the branch, the path mapping, and that the token can see the "
            "repository.",
        ),
        (
            "422",
            "POST",
            "/repos/acme/app/pulls",
            "GitHub rejected the request (422 Validation Failed) while opening the pull "
            "request from hatchet/playground/brief-",
        ),
    ],
)
@pytest.mark.usefixtures("repo")
def test_permanent_failures_are_reported_at_once(
    tenant: Tenant,
    editor: APIClient,
    github: LoopbackGitHub,
    case: str,
    method: str,
    path: str,
    reason: str,
) -> None:
    if case == "401":
        connect(tenant, github, token="ghp_revokedToken000")
    elif case == "404":
        connect(tenant, github, repository="acme/gone")
    else:
        github.fail(
            method,
            path,
            int(case),
            5,
            message={"403": "Resource not accessible by integration", "422": "Validation Failed"}[
                case
            ],
        )
    variant = create_variant(editor, BRIEF)

    request = run_task(click(editor, variant).json()["id"])

    assert (request.state, request.attempts) == ("failed", 1)
    assert request.reason.startswith(reason), request.reason
    assert "ghp_" not in request.reason
    assert github.count(method, path) == 1
    assert github.requests[-1] == (method, path)


def test_a_refused_rewrite_fails_with_the_variable_and_writes_nothing(
    editor: APIClient, github: LoopbackGitHub, repo: GitRepository
) -> None:
    repo.commit_files(
        "main",
        {"support.py": SUPPORT_PY.replace('"You are kind.")', 'f"You are {TONE}.")')},
    )
    variant = create_variant(editor, BRIEF)

    request = run_task(click(editor, variant).json()["id"])

    assert (request.state, request.attempts) == ("failed", 1)
    assert request.reason == (
        "Cannot rewrite the default of 'system_prompt': its default f\"You are {TONE}.\" is "
        "an f-string, computed when the step runs; make it a plain string to edit it from "
        "the playground."
    )
    assert github.count("POST", ".*") + github.count("PATCH", ".*") == 0
    assert repo.branches() == ["main"]


def test_call_site_paths_are_mapped_into_the_repository(
    tenant: Tenant, editor: APIClient, github: LoopbackGitHub, repo: GitRepository
) -> None:
    repo.commit_files("main", {"src/app/support.py": SUPPORT_PY})
    Variable.objects.filter(step="draft").update(
        call_site={"path": "services/support.py", "line": 10, "function": "draft"}
    )
    connect(tenant, github, strip_prefix="services/", add_prefix="/src/app")
    variant = create_variant(editor, {"draft": {"system_prompt": "Hi."}})

    request = run_task(click(editor, variant).json()["id"])

    assert request.state == "opened", request.reason
    assert changed_lines(repo.diff("main", request.branch)) == [
        '-        system = context.playground("system_prompt", "You are kind.")  # the voice',
        '+        system = context.playground("system_prompt", "Hi.")  # the voice',
    ]
    assert "+++ b/src/app/support.py" in repo.diff("main", request.branch)


@pytest.mark.usefixtures("github", "repo")
def test_a_call_site_outside_the_project_root_is_refused(editor: APIClient) -> None:
    Variable.objects.filter(step="draft").update(
        call_site={"path": "/usr/lib/site.py", "line": 10, "function": "draft"}
    )
    variant = create_variant(editor, {"draft": {"system_prompt": "Hi."}})

    request = run_task(click(editor, variant).json()["id"])

    assert request.state == "failed"
    assert request.reason.startswith(
        "Cannot rewrite the default of 'system_prompt': its call site '/usr/lib/site.py' is "
        "outside the worker's project root"
    )


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(event: dict[str, Any], signature: str | None, body: bytes | None = None) -> Any:
    body = json.dumps(event).encode() if body is None else body
    headers: dict[str, Any] = {"HTTP_X_GITHUB_EVENT": "pull_request"}
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return APIClient().post(
        "/api/v1/playground/github/webhook", body, content_type="application/json", **headers
    )


def pull_event(number: int, state: str, merged: bool) -> dict[str, Any]:
    return {
        "action": "closed",
        "repository": {"full_name": "acme/app"},
        "pull_request": {"number": number, "state": state, "merged": merged},
    }


@pytest.mark.usefixtures("repo")
def test_the_webhook_records_a_merge_when_signed_and_refuses_it_otherwise(
    editor: APIClient, github: LoopbackGitHub, other_tenant: Tenant
) -> None:
    request = run_task(click(editor, create_variant(editor, BRIEF)).json()["id"])
    event = pull_event(request.pr_number or 0, "closed", True)
    body = json.dumps(event).encode()
    connect(other_tenant, github, webhook_secret="another-secret")

    for signature in (None, "sha256=" + "0" * 64, signed(body, "wrong"), signed(body + b" ")):
        refused = deliver(event, signature, body)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "bad_signature"
    assert PullRequestRequest.objects.get(pk=request.pk).pr_state == "open"

    accepted = deliver(event, signed(body), body)
    assert (accepted.status_code, accepted.json()) == (200, {"updated": 1})
    assert PullRequestRequest.objects.get(pk=request.pk).pr_state == "merged"


@pytest.mark.usefixtures("repo")
def test_the_periodic_refresh_follows_the_pull_request_on_github(
    editor: APIClient, github: LoopbackGitHub
) -> None:
    request = run_task(click(editor, create_variant(editor, BRIEF)).json()["id"])
    assert refresh_pull_request_states() == 0

    github.pulls[1].state = "closed"
    assert refresh_pull_request_states() == 1
    assert PullRequestRequest.objects.get(pk=request.pk).pr_state == "closed"
    # Closed is final for the refresh: only open pull requests are looked at.
    assert refresh_pull_request_states() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend")
@pytest.mark.usefixtures("repo")
def test_the_in_process_refresh_goes_on_after_its_connections_were_terminated(
    tenant: Tenant,
    editor: APIClient,
    github: LoopbackGitHub,
    in_process_ticker: Callable[[], None],
    settings: Any,
) -> None:
    variant = create_variant(editor, BRIEF)
    request, _ = request_pull_request(tenant, variant, Author(None, "eve"))
    assert run_task(request.pk).state == "opened"
    # The tick, which would drop its threads' broken connections, stays out of the way.
    settings.HATCHET_TICK_INTERVAL = 60
    settings.HATCHET_GITHUB_REFRESH_INTERVAL = 0.2
    in_process_ticker()
    time.sleep(1)  # the refresh has looked at the pull request with its connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    github.pulls[1].state = "closed"

    wait_for(lambda: PullRequestRequest.objects.get(pk=request.pk).pr_state == "closed", 10)


@pytest.mark.usefixtures("github")
def test_roles_decide_who_opens_and_who_connects(
    tenant: Tenant, editor: APIClient, other_api: APIClient
) -> None:
    viewer = member_client(tenant, "viewer", username="vic")
    admin = member_client(tenant, "admin", username="ada")
    variant = create_variant(editor, BRIEF)

    assert click(viewer, variant).status_code == 403
    opened = click(editor, variant)
    assert opened.status_code == 201
    path = f"/api/v1/playground/pull-requests/{opened.json()['id']}"
    assert viewer.get(path).status_code == 200
    assert viewer.get("/api/v1/playground/pull-requests").json()["count"] == 1
    assert other_api.get(path).status_code == 404

    settings_body = {"repository": "acme/app", "base_branch": "main"}
    for client in (viewer, editor):
        assert client.get("/api/v1/playground/github-connection").status_code == 403
        answer = client.put("/api/v1/playground/github-connection", settings_body, format="json")
        assert answer.status_code == 403
    assert admin.get("/api/v1/playground/github-connection").status_code == 200
    assert other_api.get("/api/v1/playground/github-connection").status_code == 404
    refused = other_api.post(
        "/api/v1/playground/pull-requests", {"variant": variant}, format="json"
    )
    assert refused.status_code == 404


@pytest.mark.usefixtures("source", "repo")
def test_the_token_is_never_shown_stored_in_clear_or_logged(
    tenant: Tenant, github: LoopbackGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    admin = member_client(tenant, "admin", username="ada")
    saved = admin.put(
        "/api/v1/playground/github-connection",
        {
            "repository": "acme/app",
            "base_branch": "main",
            "token": GITHUB_TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
        },
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json() == {
        "repository": "acme/app",
        "base_branch": "main",
        "strip_prefix": "",
        "add_prefix": "",
        "has_token": True,
        "token_source": "stored",
        "has_webhook_secret": True,
        "api_url": github.url,
        "updated_at": saved.json()["updated_at"],
    }
    stored = GitHubConnection.objects.get()
    assert GITHUB_TOKEN not in stored.token_ciphertext
    assert WEBHOOK_SECRET not in stored.webhook_secret_ciphertext
    assert GITHUB_TOKEN not in admin.get("/api/v1/playground/github-connection").content.decode()

    caplog.set_level(logging.DEBUG)
    request = run_task(click(admin, create_variant(admin, BRIEF)).json()["id"])
    assert request.state == "opened"
    assert "/repos/acme/app/pulls" in caplog.text  # PyGithub logged its requests
    connect(tenant, github, token="ghp_wrongToken")
    failed = run_task(click(admin, create_variant(admin, BRIEF, name="again")).json()["id"])
    assert failed.state == "failed"
    pages = admin.get("/api/v1/playground/pull-requests").content.decode()
    for secret in (GITHUB_TOKEN, "ghp_wrongToken"):
        assert secret not in caplog.text
        assert secret not in pages
    # The server did see it: it was sent, only never written down.
    assert f"token {GITHUB_TOKEN}" in github.authorizations


@pytest.mark.usefixtures("source", "repo")
def test_the_servers_token_serves_only_the_repositories_the_operator_names(
    tenant: Tenant, github: LoopbackGitHub, settings: Any
) -> None:
    settings.GITHUB_TOKEN = GITHUB_TOKEN
    admin = member_client(tenant, "admin", username="ada")
    without_token = {"repository": "acme/app", "base_branch": "main"}

    unnamed = admin.put("/api/v1/playground/github-connection", without_token, format="json")
    settings.HATCHET_GITHUB_TOKEN_REPOSITORIES = ["other/repo", "ACME/*"]
    elsewhere = admin.put(
        "/api/v1/playground/github-connection",
        {"repository": "globex/secrets", "base_branch": "main"},
        format="json",
    )
    named = admin.put("/api/v1/playground/github-connection", without_token, format="json")

    assert (unnamed.status_code, unnamed.json()) == (
        400,
        {
            "error": {
                "code": "invalid_request",
                "message": "The server's GITHUB_TOKEN may not be used for acme/app: "
                "HATCHET_GITHUB_TOKEN_REPOSITORIES does not name it; store a token on the "
                "connection.",
                "details": {"field": "token", "repository": "acme/app"},
            }
        },
    )
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"]["message"].startswith(
        "The server's GITHUB_TOKEN may not be used for globex/secrets:"
    )
    assert (named.status_code, named.json()["token_source"]) == (200, "environment")
    assert GitHubConnection.objects.get().repository == "acme/app"
    request = run_task(click(admin, create_variant(admin, BRIEF)).json()["id"])
    assert request.state == "opened"
    assert f"token {GITHUB_TOKEN}" in github.authorizations


def test_without_a_token_and_without_the_servers_a_connection_is_refused(
    tenant: Tenant, settings: Any
) -> None:
    settings.GITHUB_TOKEN = ""
    settings.HATCHET_GITHUB_TOKEN_REPOSITORIES = ["acme/*"]
    admin = member_client(tenant, "admin", username="ada")

    answer = admin.put(
        "/api/v1/playground/github-connection",
        {"repository": "acme/app", "base_branch": "main"},
        format="json",
    )

    assert (answer.status_code, answer.json()["error"]["message"]) == (
        400,
        "No GitHub token: store one on the connection.",
    )
    assert not GitHubConnection.objects.exists()


@pytest.mark.usefixtures("repo")
def test_a_connection_on_the_servers_token_is_refused_once_the_operator_narrows_it(
    tenant: Tenant,
    editor: APIClient,
    github: LoopbackGitHub,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.GITHUB_TOKEN = GITHUB_TOKEN
    settings.HATCHET_GITHUB_TOKEN_REPOSITORIES = ["acme/app"]
    connect(tenant, github, token="")
    opened = run_task(click(editor, create_variant(editor, BRIEF)).json()["id"])
    assert opened.state == "opened"
    settings.HATCHET_GITHUB_TOKEN_REPOSITORIES = ["acme/other"]
    asked = len(github.requests)
    refusal = (
        "The server's GITHUB_TOKEN may not be used for acme/app: "
        "HATCHET_GITHUB_TOKEN_REPOSITORIES does not name it; store a token on the connection"
    )

    failed = run_task(click(editor, create_variant(editor, BRIEF, name="again")).json()["id"])
    github.pulls[1].state = "closed"
    refreshed = refresh_pull_request_states()
    event = pull_event(opened.pr_number or 0, "closed", True)
    body = json.dumps(event).encode()
    delivered = deliver(event, signed(body), body)

    assert (failed.state, failed.reason) == ("failed", refusal + ".")
    assert refreshed == 0
    assert f"refreshing the pull requests of acme/app: {refusal}" in caplog.text
    assert (delivered.status_code, delivered.json()) == (
        403,
        {"error": {"code": "repository_not_allowed", "message": refusal + ".", "details": {}}},
    )
    assert len(github.requests) == asked
    assert PullRequestRequest.objects.get(pk=opened.pk).pr_state == "open"
    admin = member_client(tenant, "admin", username="ada")
    shown = admin.get("/api/v1/playground/github-connection").json()
    assert (shown["has_token"], shown["token_source"]) == (False, "none")


@pytest.mark.usefixtures("source")
def test_a_pull_request_needs_a_connection_and_something_to_change(
    tenant: Tenant, settings: Any
) -> None:
    settings.HATCHET_ENCRYPTION_KEYS = [ENCRYPTION_KEY]
    editor = member_client(tenant, "editor", username="eve")
    variant = create_variant(editor, BRIEF)
    missing = click(editor, variant)
    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404,
        "No GitHub repository is connected; an admin connects one first.",
    )
    save_connection(tenant, repository="acme/app", base_branch="main", token=GITHUB_TOKEN)
    empty = create_variant(editor, {}, name="empty")
    answer = click(editor, empty)
    assert answer.status_code == 400
    assert "overrides nothing" in answer.json()["error"]["message"]


def test_retry_delays_double_then_follow_rate_limits_and_stay_capped(settings: Any) -> None:
    settings.HATCHET_GITHUB_MAX_RETRY_DELAY = 100
    transient = GitHubError("x", transient=True)
    assert [retry_delay(transient, n) for n in (1, 2, 3, 7, 8)] == [2, 4, 8, 100, 100]
    limited = GitHubError("x", transient=True, retry_after=42.0)
    assert retry_delay(limited, 1) == 42
    assert rate_limit_wait({"x-ratelimit-reset": str(int(time.time()) + 10)}, time.time()) in (
        pytest.approx(11, abs=1.01),
    )
    assert rate_limit_wait({"retry-after": "7"}, 0) == 7


def test_the_branch_name_is_stable_for_a_variant() -> None:
    name = branch_name("Brief & Friendly!", "0b4f6a1c-aaaa-bbbb-cccc-000000000000")
    assert name == "hatchet/playground/brief-friendly-0b4f6a1c"
