"""Celery tasks of the playground: the GitHub work of a pull request and of its
evidence, tried again after a delay while GitHub fails transiently, the periodic look at opened pull
requests (Celery beat's task, or periodic work beside the engine tick where run_engine
or the in-process ticker drives it), and the LLM judges' scores of comparison cells."""

import logging

from celery import shared_task
from django.conf import settings

from hatchet.celery import enqueue
from hatchet.periodic import PeriodicWork
from playground.github.evidence import work_on_evidence
from playground.github.pull_requests import work_on_pull_request
from playground.github.refresh import refresh_pull_request_states
from playground.scoring import judge_pending_scores

logger = logging.getLogger(__name__)


@shared_task(name="playground.open_pull_request", ignore_result=True)
def open_pull_request(request_id: str, attempt: int = 1) -> None:
    delay = work_on_pull_request(request_id, attempt=attempt)
    if delay is not None:
        enqueue(open_pull_request, request_id, attempt + 1, countdown=delay)


@shared_task(name="playground.post_evidence", ignore_result=True)
def post_evidence(request_id: str, attempt: int = 1) -> None:
    """The latest comparison's evidence on an opened pull request: its comment and
    the commit status `hatchet/evaluation`."""
    delay = work_on_evidence(request_id, attempt=attempt)
    if delay is not None:
        enqueue(post_evidence, request_id, attempt + 1, countdown=delay)


@shared_task(name="playground.refresh_pull_requests", ignore_result=True)
def refresh_pull_requests() -> int:
    return refresh_pull_request_states()


@shared_task(name="playground.judge_cells", ignore_result=True)
def judge_cells(judged: list[list[str]]) -> None:
    """[[cell's run id, evaluator id], ...]: ask each judge, store its score."""
    judge_pending_scores([(run_id, evaluator_id) for run_id, evaluator_id in judged])


def pull_request_refresh() -> PeriodicWork:
    """The fallback to GitHub's webhook for the state of opened pull requests."""

    def refresh() -> None:
        updated = refresh_pull_request_states()
        if updated:
            logger.info("pull requests refreshed: %d changed state", updated)

    interval = settings.HATCHET_GITHUB_REFRESH_INTERVAL
    return PeriodicWork("pull request refresh", refresh, interval, first_after=interval)
