"""The evidence on a variant's pull request, against the loopback GitHub through
PyGithub: the latest comparison of the variant against the defaults in code in the
body, one comment kept up to date by each later comparison, and the commit status
`hatchet/evaluation` failing on a regression beyond the workflow's threshold."""

import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from playground.github.evidence import MARKER, STATUS_CONTEXT, latest_evidence, work_on_evidence
from playground.models import PullRequestRequest
from tests.e2e.live import wait_for
from tests.factories import PlaygroundWorker, connect, editor_with_plain_check
from tests.github_server import LoopbackGitHub
from tests.playground.test_pull_requests import BRIEF, click, create_variant, run_task
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(
    tenant: Tenant,
    source: WorkflowRun,  # noqa: ARG001 (the run must exist)
    github: LoopbackGitHub,
) -> APIClient:
    """An editor of a tenant whose Support workflow ran once, connected to acme/app,
    with a check that the brief variant fails and the defaults in code pass."""
    connect(tenant, github)
    return editor_with_plain_check(tenant)


def start_comparison(api: APIClient, source: WorkflowRun, *columns: dict[str, Any]) -> str:
    answer = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": list(columns),
            "rows": [{"run": str(source.pk)}, {"input": {"ticket": "Site down"}}],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    return str(answer.json()["id"])


def compare(
    api: APIClient, tenant: Tenant, source: WorkflowRun, variant: str, capture: Any = None
) -> str:
    """The baseline and the variant compared over the past run and a custom input,
    every cell run and scored."""
    comparison = start_comparison(api, source, {"baseline": True}, {"variant": variant})
    if capture is None:
        PlaygroundWorker(tenant).run_all()
    else:
        with capture(execute=True):
            PlaygroundWorker(tenant).run_all()
    return comparison


def evidence_comment(github: LoopbackGitHub) -> Any:
    marked = [c for c in github.comments.values() if MARKER in c.body]
    return marked[0] if len(marked) == 1 else None


def status_if(github: LoopbackGitHub, sha: str, state: str) -> Any:
    """The commit's `hatchet/evaluation` status if it is in `state`."""
    status = github.latest_status(sha, STATUS_CONTEXT)
    return status if status is not None and status.state == state else None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("repo", "task_runner")
def test_the_pull_request_shows_the_latest_comparison_and_each_rerun_updates_it(
    editor: APIClient, tenant: Tenant, source: WorkflowRun, github: LoopbackGitHub
) -> None:
    variant = create_variant(editor, BRIEF)
    first = compare(editor, tenant, source, variant)

    request_id = click(editor, variant).json()["id"]

    request = wait_for(
        lambda: (r := PullRequestRequest.objects.get(pk=request_id)).state == "opened" and r
    )
    [pull] = github.pulls.values()
    assert "### Evaluation: regressed" in pull.body
    assert f"(http://127.0.0.1:8080/playground/compare/{first}) of this variant" in pull.body
    assert "| baseline (baseline) | 100% / 1.00 | " in pull.body
    assert "| brief r1 | 0% / 0.00 | " in pull.body
    assert (
        "- :x: plain pass rate fell from 1.000 to 0.000 (by 1.000; at most 0 is allowed)"
        in pull.body
    )
    assert f"- run {str(source.pk)[:8]}: 1.00 -> 0.00\n- input 2: 1.00 -> 0.00" in pull.body
    # The comment and the status follow the pull request.
    comment = wait_for(lambda: evidence_comment(github))
    assert "### Evaluation: regressed" in comment.body
    failed = wait_for(lambda: status_if(github, request.commit_sha, "failure"))
    assert (failed.state, failed.target_url) == (
        "failure",
        f"http://127.0.0.1:8080/playground/compare/{first}",
    )
    assert failed.description == (
        "Regressed: plain pass rate fell from 1.000 to 0.000 (by 1.000; at most 0 is allowed)"
    )

    # The team accepts any drop of the check's pass rate, and runs the comparison again.
    threshold = editor.post(
        "/api/v1/playground/thresholds",
        {"workflow": "Support", "evaluator": "plain", "metric": "pass_rate", "max_drop": 1},
        format="json",
    )
    assert threshold.status_code == 200, threshold.json()
    second = compare(editor, tenant, source, variant)

    passed = wait_for(lambda: status_if(github, request.commit_sha, "success"))
    assert passed.target_url == f"http://127.0.0.1:8080/playground/compare/{second}"
    assert passed.description == "No regression against the defaults in code."
    edited = wait_for(lambda: (c := evidence_comment(github)) and second in c.body and c)
    assert edited.id == comment.id
    assert "### Evaluation: no regression" in edited.body
    assert list(github.comments) == [comment.id]
    assert github.count("POST", "/repos/acme/app/issues/1/comments") == 1
    assert github.count("PATCH", f"/repos/acme/app/issues/comments/{comment.id}") == 1


@pytest.mark.usefixtures("repo")
def test_posting_the_evidence_is_retried_while_github_fails_and_a_refusal_only_logged(
    editor: APIClient,
    tenant: Tenant,
    source: WorkflowRun,
    github: LoopbackGitHub,
    django_capture_on_commit_callbacks: Any,
    caplog: Any,
) -> None:
    variant = create_variant(editor, BRIEF)
    compare(editor, tenant, source, variant, django_capture_on_commit_callbacks)
    request = run_task(click(editor, variant).json()["id"])
    github.fail("POST", r"/repos/acme/app/issues/1/comments", 502)
    github.fail("POST", r"/repos/acme/app/statuses/[0-9a-f]{40}", 403, message="Forbidden")

    assert work_on_evidence(request.pk, attempt=1) == 2.0
    assert github.comments == {}
    with caplog.at_level(logging.WARNING, logger="playground.github.evidence"):
        assert work_on_evidence(request.pk, attempt=2) is None

    assert evidence_comment(github) is not None
    assert github.statuses == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "playground: the evidence on https://github.example/acme/app/pull/1 was not posted: "
        f"GitHub denied access (403 Forbidden) while setting the status hatchet/evaluation of "
        f"{request.commit_sha[:12]}: the token needs write access to the repository's "
        "contents and pull requests"
    ]


@pytest.mark.usefixtures("repo")
def test_the_evidence_is_the_newest_finished_comparison_of_the_revision_against_the_code(
    editor: APIClient,
    tenant: Tenant,
    source: WorkflowRun,
    django_capture_on_commit_callbacks: Any,
) -> None:
    variant = create_variant(editor, BRIEF)
    request = run_task(click(editor, variant).json()["id"])
    assert latest_evidence(request) is None

    chosen = compare(editor, tenant, source, variant, django_capture_on_commit_callbacks)
    # Newer, but not evidence: against another variant, of another revision, unfinished.
    other = create_variant(editor, {"draft": {"temperature": 0.1}}, name="cold")
    start_comparison(editor, source, {"variant": other}, {"variant": variant})
    with django_capture_on_commit_callbacks(execute=True):
        PlaygroundWorker(tenant).run_all()
    editor.patch(
        f"/api/v1/playground/variants/{variant}",
        {"overrides": {"draft": {"temperature": 0.9}}},
        format="json",
    )
    compare(editor, tenant, source, variant, django_capture_on_commit_callbacks)
    start_comparison(editor, source, {"baseline": True}, {"variant": variant, "revision": 1})

    evidence = latest_evidence(request)

    assert evidence is not None
    assert (str(evidence.comparison), evidence.column, evidence.regressed) == (chosen, 1, True)
