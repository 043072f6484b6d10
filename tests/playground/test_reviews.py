"""People judging a comparison: a review per cell (thumbs, score, comment) and blind A/B
votes between two columns, counted per column in the comparison's answer."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from hatchet.models import Tenant
from tests.factories import PlaygroundWorker, member_client
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db

TERSE = {"draft": {"system_prompt": "Be brief."}}


@pytest.fixture
def comparison(tenant: Tenant, api: APIClient, source: WorkflowRun) -> dict[str, Any]:
    """Support's code defaults beside a terse prompt over a past ticket and two new ones,
    every cell run."""
    matrix = api.post(
        "/api/v1/playground/compare",
        {
            "workflow": "Support",
            "columns": [{"baseline": True}, {"overrides": TERSE}],
            "rows": [
                {"run": str(source.pk)},
                *({"input": {"ticket": t}} for t in ("outage", "invoice")),
            ],
        },
        format="json",
    ).json()
    worker = PlaygroundWorker(tenant)
    worker.run_step("classify")
    worker.run_step("draft")
    # The cells show `review`'s output: it passes on what its draft was given.
    for assignment in worker.claim("review"):
        worker.complete(assignment, {"draft": assignment.parents["draft"]})
    return matrix


def cell(matrix: dict[str, Any], row: int, column: int) -> str:
    [run_id] = [c["run_id"] for c in matrix["cells"] if (c["row"], c["column"]) == (row, column)]
    return str(run_id)


def review(client: APIClient, matrix: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/v1/playground/compare/{matrix['id']}/reviews", body, format="json")


def matrix_of(client: APIClient, matrix: dict[str, Any]) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/playground/compare/{matrix['id']}").json())


def test_a_review_is_kept_replaced_by_the_same_person_and_counted_per_column(
    tenant: Tenant, comparison: dict[str, Any]
) -> None:
    pam = member_client(tenant, "editor", username="pam")
    eve = member_client(tenant, "editor", username="eve")
    terse_first = cell(comparison, 0, 1)

    first = review(pam, comparison, run_id=terse_first, thumbs="down", comment="Too short")
    replaced = review(pam, comparison, run_id=terse_first, thumbs="up", score=0.75)
    review(eve, comparison, run_id=terse_first, score=0.25)
    review(eve, comparison, run_id=cell(comparison, 1, 0), thumbs="down")

    assert first.status_code == 200
    assert replaced.json()["id"] == first.json()["id"]
    assert {
        k: replaced.json()[k] for k in ("run_id", "thumbs", "score", "comment", "reviewer")
    } == {
        "run_id": terse_first,
        "thumbs": "up",
        "score": 0.75,
        "comment": "",
        "reviewer": "pam",
    }
    answer = matrix_of(pam, comparison)
    assert sorted((r["reviewer"], r["run_id"]) for r in answer["reviews"]) == sorted(
        [("pam", terse_first), ("eve", terse_first), ("eve", cell(comparison, 1, 0))]
    )
    nothing = {"votes": 0, "wins": 0, "losses": 0, "ties": 0, "pairwise_score": None}
    assert answer["review_summary"] == [
        {
            "column": 0,
            "reviews": 1,
            "thumbs_up": 0,
            "thumbs_down": 1,
            "mean_score": None,
            **nothing,
        },
        {
            "column": 1,
            "reviews": 2,
            "thumbs_up": 1,
            "thumbs_down": 0,
            "mean_score": 0.5,
            **nothing,
        },
    ]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"thumbs": "", "comment": "  "},
            400,
            {
                "code": "invalid_request",
                "message": "A review needs thumbs, a score or a comment.",
                "details": {"non_field_errors": ["A review needs thumbs, a score or a comment."]},
            },
        ),
        (
            {"score": 1.5},
            400,
            {
                "code": "invalid_request",
                "message": "score: Ensure this value is less than or equal to 1.",
                "details": {"score": ["Ensure this value is less than or equal to 1."]},
            },
        ),
        (
            {"thumbs": "sideways"},
            400,
            {
                "code": "invalid_request",
                "message": 'thumbs: "sideways" is not a valid choice.',
                "details": {"thumbs": ['"sideways" is not a valid choice.']},
            },
        ),
    ],
)
def test_a_review_without_a_judgement_or_out_of_bounds_is_refused(
    api: APIClient,
    comparison: dict[str, Any],
    body: dict[str, Any],
    status: int,
    error: dict[str, Any],
) -> None:
    response = review(api, comparison, run_id=cell(comparison, 0, 0), **body)

    assert (response.status_code, response.json()) == (status, {"error": error})


def test_only_a_cell_of_the_comparison_can_be_reviewed(
    api: APIClient, comparison: dict[str, Any]
) -> None:
    other = "00000000-0000-4000-8000-000000000000"

    response = review(api, comparison, run_id=other, thumbs="up")

    assert (response.status_code, response.json()) == (
        404,
        {
            "error": {
                "code": "not_found",
                "message": "The comparison has no cell of this run.",
                "details": {"run_id": other},
            }
        },
    )


def test_a_viewer_reads_reviews_but_does_not_review(
    tenant: Tenant, comparison: dict[str, Any]
) -> None:
    viewer = member_client(tenant, "viewer", username="vic")

    response = review(viewer, comparison, run_id=cell(comparison, 0, 0), thumbs="up")

    assert response.status_code == 403
    assert matrix_of(viewer, comparison)["reviews"] == []


def blind_pair(client: APIClient, matrix: dict[str, Any], query: str = "a=0&b=1") -> Any:
    return client.get(f"/api/v1/playground/compare/{matrix['id']}/blind-pair?{query}")


def vote(client: APIClient, matrix: dict[str, Any], pair: str, choice: str) -> Any:
    return client.post(
        f"/api/v1/playground/compare/{matrix['id']}/votes",
        {"pair": pair, "choice": choice},
        format="json",
    )


def is_terse(output: dict[str, Any]) -> bool:
    """The scripted draft step's output names the overrides its run got."""
    return bool(output["draft"]["used"])


def test_blind_pairs_hide_their_columns_and_votes_count_as_a_pairwise_score(
    api: APIClient, comparison: dict[str, Any]
) -> None:
    shown: list[tuple[Any, Any]] = []
    while (pair := blind_pair(api, comparison).json())["pair"] is not None:
        assert set(pair) == {"pair", "remaining", "input", "left", "right"}
        shown.append((pair["input"], pair["left"]))
        # The terse prompt wins the first row it is shown; the rest are ties.
        choice = ("left" if is_terse(pair["left"]) else "right") if len(shown) == 1 else "tie"
        assert vote(api, comparison, pair["pair"], choice).status_code == 201

    assert sorted(row["ticket"] for row, _ in shown) == ["Where is my refund?", "invoice", "outage"]
    assert blind_pair(api, comparison).json() == {"pair": None, "remaining": 0}
    summary = matrix_of(api, comparison)["review_summary"]
    assert [
        (c["votes"], c["wins"], c["losses"], c["ties"], c["pairwise_score"]) for c in summary
    ] == [(3, 0, 1, 2, 0.3333), (3, 1, 0, 2, 0.6667)]


def test_a_second_vote_on_a_pair_replaces_the_first(
    api: APIClient, comparison: dict[str, Any]
) -> None:
    pair = blind_pair(api, comparison).json()

    first = vote(api, comparison, pair["pair"], "left").json()
    second = vote(api, comparison, pair["pair"], "right").json()

    assert second["id"] == first["id"]
    assert (first["column_a"], first["column_b"]) == (0, 1)
    assert second["winner"] != first["winner"]
    assert sum(c["votes"] for c in matrix_of(api, comparison)["review_summary"]) == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a=0&b=2", "The comparison has 2 columns (0 to 1); there is no 2."),
        ("a=1&b=1", "A blind pair is of two different columns."),
        ("a=0", "b: This field is required."),
    ],
)
def test_a_blind_pair_of_columns_the_comparison_lacks_is_refused(
    api: APIClient, comparison: dict[str, Any], query: str, message: str
) -> None:
    response = blind_pair(api, comparison, query)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message


def test_a_vote_on_a_pair_the_server_did_not_make_is_refused(
    api: APIClient, comparison: dict[str, Any]
) -> None:
    pair = blind_pair(api, comparison).json()["pair"]
    other = api.post(
        "/api/v1/playground/compare",
        {"workflow": "Support", "columns": [{"baseline": True}], "rows": [{"input": {}}]},
        format="json",
    ).json()

    tampered = vote(api, comparison, pair[:-2] + "xx", "left")
    elsewhere = vote(api, other, pair, "left")

    assert tampered.status_code == 400
    assert tampered.json()["error"]["message"] == (
        "This pair was not made by this server (ask for a new one)."
    )
    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"]["message"] == "This pair is of another comparison."
