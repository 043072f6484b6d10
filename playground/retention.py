"""What the playground keeps of the history that retention deletes: the runs of its
comparisons and replays, the runs they replayed, the runs dataset rows came from, and
the runs that computed scores."""

from typing import Any

from django.db.models import Model

from playground.models import DatasetRow, PlaygroundRun, Score
from workflows.signals import runs_referenced


def referencing_fields(**_: Any) -> list[tuple[type[Model], str]]:
    return [
        (PlaygroundRun, "run"),
        (PlaygroundRun, "source_run"),
        (DatasetRow, "source_run"),
        (Score, "evaluator_run"),
    ]


def subscribe_to_engine() -> None:
    runs_referenced.connect(referencing_fields, dispatch_uid="playground.retention")
