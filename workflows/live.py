"""Live run updates: the engine's announcements go to the pages watching each run."""

import asyncio
from collections import defaultdict
from typing import Any

from channels.layers import get_channel_layer

from hatchet.concurrency import submit
from workflows.signals import RunUpdate, runs_updated


def run_group(workflow_run_id: Any) -> str:
    return f"run.{workflow_run_id}"


def on_runs_updated(sender: Any, updates: list[RunUpdate], **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    by_run: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for update in updates:
        by_run[update.workflow_run_id].append(update.message)

    async def send_all() -> None:
        # One message per run per transaction, however many rows it changed.
        await asyncio.gather(
            *(
                layer.group_send(run_group(run_id), {"type": "run.updates", "updates": messages})
                for run_id, messages in by_run.items()
            )
        )

    submit(send_all)


def subscribe_to_engine() -> None:
    runs_updated.connect(on_runs_updated, dispatch_uid="workflows.live")
