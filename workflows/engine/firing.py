"""Firing due crons and schedules: rows claimed with SKIP LOCKED, their runs started
and the rows moved on in one transaction, so each due time starts exactly one run
however many tickers run at once."""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from hatchet.errors import ServiceError
from workflows.engine.runs import RunRequest, trigger_workflow_runs
from workflows.models import CronTrigger, ScheduledRun

logger = logging.getLogger(__name__)

FIRE_BATCH = 200

Trigger = CronTrigger | ScheduledRun


def fire_due(
    due: QuerySet[Any],
    *,
    trigger: str,
    link: str,
    due_at: Callable[[Any], datetime],
    advance: Callable[[Any], None],
    fields: list[str],
) -> int:
    """Claim up to FIRE_BATCH `due` rows nobody else holds, start one run for each
    (linked to it as `link`, with the time it was due at as its fire time), `advance`
    each and save its `fields`. Returns the runs started."""
    fired = 0
    with transaction.atomic():
        rows: list[Trigger] = list(
            due.select_for_update(skip_locked=True, of=("self",)).select_related(
                "workflow", "tenant"
            )[:FIRE_BATCH]
        )
        if not rows:
            return 0
        due_times = {row.pk: due_at(row) for row in rows}
        of_workflow: dict[Any, list[Trigger]] = defaultdict(list)
        for row in rows:
            of_workflow[row.workflow_id].append(row)
            advance(row)
        for same_workflow in of_workflow.values():
            fired += start_runs(same_workflow, trigger, link, due_times)
        model: Any = type(rows[0])
        model.objects.bulk_update(rows, fields)
    return fired


def start_runs(rows: list[Trigger], trigger: str, link: str, due_times: dict[Any, datetime]) -> int:
    """One run per row, of their workflow's latest version. A failure is logged and
    the rows still move on: one broken trigger must not block the others, nor fire
    twice later."""
    tenant, workflow = rows[0].tenant, rows[0].workflow
    requests = [
        RunRequest(
            row.input,
            row.additional_metadata,
            links={link: row, "fire_time": due_times[row.pk]},
        )
        for row in rows
    ]
    try:
        with transaction.atomic():
            runs = trigger_workflow_runs(tenant, workflow.name, requests, trigger=trigger)
    except ServiceError:
        logger.exception("%s triggers of %s could not start their runs", trigger, workflow.name)
        return 0
    return len(runs)
