"""The Celery app: eager in the embedded mode, on Redis in production, and the one way
to hand it a task."""

import logging
import os
import threading
from typing import Any

from celery import Celery, Task, signals
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hatchet.settings")

app = Celery("hatchet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_unsafe_settings(sender: Any = None, **kwargs: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from hatchet.deployment import refuse_unsafe_settings

    # Celery's signals reach every app's workers in the process (the benchmarks run a
    # bare Celery app of their own beside Django's settings).
    if getattr(sender, "app", None) is not app:
        return
    try:
        refuse_unsafe_settings()
    except ImproperlyConfigured as unsafe:
        # Celery logs a signal handler's exception and goes on; this stops the process.
        raise SystemExit(f"ImproperlyConfigured: {unsafe}") from None


logger = logging.getLogger(__name__)


def count_outcome(sender: Any, outcome: str) -> None:
    if getattr(sender, "app", None) is not app:
        return  # a bare Celery app of the benchmarks, not ours
    from hatchet.metrics import count_task_outcome

    count_task_outcome(sender.name, outcome)


@signals.task_success.connect
def count_success(sender: Any = None, **kwargs: Any) -> None:
    count_outcome(sender, "success")


@signals.task_failure.connect
def count_failure(sender: Any = None, **kwargs: Any) -> None:
    count_outcome(sender, "failure")


@signals.task_retry.connect
def count_retry(sender: Any = None, **kwargs: Any) -> None:
    count_outcome(sender, "retry")


def enqueue(task: Task[Any, Any], *args: Any, countdown: float = 0.0) -> None:
    """Run the task in the background, `countdown` seconds from now: on Celery's
    workers in production; in the embedded mode, whose eager Celery would run it in
    the caller (an HTTP request, at once), in a thread of its own after the delay."""
    if not app.conf.task_always_eager:
        task.apply_async(args, countdown=countdown)
        return
    timer = threading.Timer(countdown, run_in_this_thread, (task, args))
    timer.daemon = True
    timer.start()


def run_in_this_thread(task: Task[Any, Any], args: tuple[Any, ...]) -> None:
    try:
        task.apply(args)
    except Exception:
        logger.exception("task %s%r failed", task.name, args)
    finally:
        connections.close_all()
