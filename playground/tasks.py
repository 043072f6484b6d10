"""Celery tasks of the playground: the GitHub work of a pull request, tried again
after a delay while GitHub fails transiently, and the periodic look at opened pull
requests."""

from celery import shared_task

from hatchet.celery import enqueue
from playground.github.pull_requests import work_on_pull_request
from playground.github.refresh import refresh_pull_request_states


@shared_task(name="playground.open_pull_request", ignore_result=True)
def open_pull_request(request_id: str, attempt: int = 1) -> None:
    delay = work_on_pull_request(request_id, attempt=attempt)
    if delay is not None:
        enqueue(open_pull_request, request_id, attempt + 1, countdown=delay)


@shared_task(name="playground.refresh_pull_requests", ignore_result=True)
def refresh_pull_requests() -> int:
    return refresh_pull_request_states()
