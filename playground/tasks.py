"""Celery tasks of the playground: the GitHub work of a pull request, retried while
GitHub fails transiently, and the periodic look at opened pull requests."""

from typing import Any

from celery import Task, shared_task

from playground import github


# No retry limit of Celery's: work_on_pull_request counts the attempts and gives up.
@shared_task(bind=True, name="playground.open_pull_request", ignore_result=True, max_retries=None)
def open_pull_request(self: Task[Any, Any], request_id: str) -> Any:
    delay = github.work_on_pull_request(request_id, attempt=self.request.retries + 1)
    if delay is None:
        return None
    retry = self.retry(countdown=delay, throw=False)
    if self.request.is_eager:
        # Eager Celery (embedded mode, tests) runs the next attempt when this returns
        # it, where raising would propagate out of apply().
        return retry
    raise retry


@shared_task(name="playground.refresh_pull_requests", ignore_result=True)
def refresh_pull_requests() -> int:
    return github.refresh_pull_request_states()
