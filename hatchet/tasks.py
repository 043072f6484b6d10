"""Celery tasks of the wiring: the engine tick that Celery beat schedules."""

from celery import shared_task

from hatchet.ticker import tick


@shared_task(name="hatchet.engine_tick", ignore_result=True)
def engine_tick() -> dict[str, int]:
    return tick()
