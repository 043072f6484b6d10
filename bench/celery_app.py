"""The Celery side of the comparison: its own tiny app with one no-op task.

Configured from the environment so the harness and its worker processes agree:
BENCH_CELERY_URL (Redis, broker and result backend) and BENCH_CELERY_QUEUE (a queue name
unique to the run, so a shared Redis is never flushed). Run as
`celery -A bench.celery_app worker -P prefork -c N ...` (see bench/README.md).
"""

import os
import time
from typing import Any

from celery import Celery

# Matches Hatchet's default of 10 slots per worker process: each pool process may hold
# that many unacknowledged tasks.
PREFETCH_MULTIPLIER = 10

app = Celery("bench", set_as_current=False)
app.conf.update(
    # Like Hatchet, a task is only done once its result is stored and its message
    # acknowledged after it ran: a worker that dies mid-task loses nothing.
    task_acks_late=True,
    task_ignore_result=False,
    worker_prefetch_multiplier=PREFETCH_MULTIPLIER,
    result_expires=3600,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


def configure(url: str, queue: str) -> None:
    """Point the app at a Redis URL (broker and result backend) and a queue."""
    app.conf.update(broker_url=url, result_backend=url, task_default_queue=queue)


configure(
    os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/14"),
    os.environ.get("BENCH_CELERY_QUEUE", "bench"),
)


@app.task(name="bench.noop")
def noop(sent: float, phase: str) -> dict[str, Any]:
    started = time.time()
    return {"sent": sent, "started": started, "phase": phase}
