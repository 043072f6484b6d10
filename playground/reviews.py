"""People's judgements of comparison cells: a review of one cell (thumbs, a score from 0
to 1, a comment) and blind A/B votes between two columns of a row, and what they add up
to per column. A blind pair leaves the server as a signed token naming its columns, so
the person voting is never told which column is which."""

import random
from collections import defaultdict
from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from hatchet.errors import InvalidRequest
from hatchet.lookups import get_or_404
from playground.models import Comparison, PairwiseVote, PlaygroundRun, Review
from playground.outcomes import comparison_cells
from playground.services import Author
from workflows.models import WorkflowRunStatus

BLIND_PAIR_SALT = "playground.blind-pair"


def review_cell(
    comparison: Comparison,
    run_id: Any,
    author: Author,
    *,
    thumbs: str = "",
    score: float | None = None,
    comment: str = "",
) -> Review:
    """The author's review of a cell, made or replaced by this one."""
    cell = get_or_404(
        PlaygroundRun.objects.filter(comparison=comparison),
        "The comparison has no cell of this run.",
        details={"run_id": str(run_id)},
        pk=run_id,
    )
    with transaction.atomic():
        review, _ = Review.objects.update_or_create(
            cell=cell,
            reviewer_name=author.name,
            defaults={
                "tenant_id": comparison.tenant_id,
                "comparison": comparison,
                "thumbs": thumbs,
                "score": score,
                "comment": comment,
                "reviewer": author.user,
                "updated_at": timezone.now(),
            },
        )
    return review


def check_columns(comparison: Comparison, column_a: int, column_b: int) -> None:
    count = len(comparison.columns)
    for column in (column_a, column_b):
        if column >= count:
            raise InvalidRequest(
                f"The comparison has {count} columns (0 to {count - 1}); there is no {column}.",
                {"column": column},
            )
    if column_a == column_b:
        raise InvalidRequest("A blind pair is of two different columns.", {"column": column_a})


def blind_pair(
    comparison: Comparison, column_a: int, column_b: int, author: Author
) -> dict[str, Any]:
    """A row whose cells in both columns succeeded and that the author has not voted on
    for these columns, its two outputs in random order; `pair` is None once none is left."""
    check_columns(comparison, column_a, column_b)
    low, high = sorted((column_a, column_b))
    succeeded: dict[int, dict[int, Any]] = defaultdict(dict)
    inputs: dict[int, Any] = {}
    for run_id, row, column, run_input in PlaygroundRun.objects.filter(
        comparison=comparison, column__in=[low, high], run__status=WorkflowRunStatus.SUCCEEDED
    ).values_list("run_id", "row", "column", "run__input"):
        succeeded[row or 0][column or 0] = run_id
        inputs[row or 0] = run_input
    voted = set(
        PairwiseVote.objects.filter(
            comparison=comparison, column_a=low, column_b=high, reviewer_name=author.name
        ).values_list("row", flat=True)
    )
    open_rows = sorted(
        row for row, cells in succeeded.items() if len(cells) == 2 and row not in voted
    )
    if not open_rows:
        return {"pair": None, "remaining": 0}
    row = random.choice(open_rows)  # noqa: S311 (an order to show, not a secret)
    left, right = random.sample([low, high], 2)
    cells = {
        cell["run_id"]: cell
        for cell in comparison_cells(comparison, [succeeded[row][left], succeeded[row][right]])
    }
    token = signing.dumps(
        {"comparison": str(comparison.pk), "row": row, "left": left, "right": right},
        salt=BLIND_PAIR_SALT,
    )
    return {
        "pair": token,
        "remaining": len(open_rows),
        "input": inputs[row],
        "left": cells[succeeded[row][left]]["output"],
        "right": cells[succeeded[row][right]]["output"],
    }


def vote(comparison: Comparison, pair: str, choice: str, author: Author) -> PairwiseVote:
    """Record which of a blind pair the author found better ("left", "right" or "tie"),
    replacing their earlier vote on the same row and columns."""
    try:
        shown = signing.loads(pair, salt=BLIND_PAIR_SALT)
    except signing.BadSignature:
        raise InvalidRequest("This pair was not made by this server (ask for a new one).") from None
    if shown["comparison"] != str(comparison.pk):
        raise InvalidRequest("This pair is of another comparison.")
    low, high = sorted((shown["left"], shown["right"]))
    winner = {"left": shown["left"], "right": shown["right"], "tie": None}[choice]
    with transaction.atomic():
        recorded, _ = PairwiseVote.objects.update_or_create(
            comparison=comparison,
            row=shown["row"],
            column_a=low,
            column_b=high,
            reviewer_name=author.name,
            defaults={
                "tenant_id": comparison.tenant_id,
                "winner": winner,
                "reviewer": author.user,
                "created_at": timezone.now(),
            },
        )
    return recorded
