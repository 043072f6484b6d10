"""Celery tasks of the engine: the periodic engine work that Celery beat schedules (the
task names are those the beat schedule in settings names), history retention included."""

from celery import shared_task

from workflows.engine.retention import prune_history_pass
from workflows.ticker import fire_triggers, tick


@shared_task(name="hatchet.fire_triggers", ignore_result=True)
def fire_triggers_task() -> dict[str, int]:
    """Crons and schedules due: their own task, so that a slow pass over deadlines
    never holds back a schedule."""
    return fire_triggers()


@shared_task(name="hatchet.engine_tick", ignore_result=True)
def engine_tick() -> dict[str, int]:
    return tick(triggers=False)


@shared_task(name="hatchet.prune_history", ignore_result=True)
def prune_history() -> dict[str, int]:
    """Expired runs and events, a bounded number of batches (HATCHET_RETENTION_*)."""
    return prune_history_pass()
