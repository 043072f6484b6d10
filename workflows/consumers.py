"""The run websocket: a snapshot of the run, then its updates as they happen."""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from workflows.live import run_group
from workflows.models import StepRunLine, WorkflowRun

UNAUTHORIZED = 4401
NOT_FOUND = 4404


def run_snapshot(tenant_id: Any, run_id: str) -> dict[str, Any] | None:
    run = WorkflowRun.objects.filter(tenant_id=tenant_id, pk=run_id).first()
    if run is None:
        return None
    step_runs = list(run.step_runs.select_related("step"))
    lines = StepRunLine.objects.filter(step_run__workflow_run=run).order_by("created_at", "seq")
    return {
        "type": "run.snapshot",
        "run_id": str(run.id),
        "status": run.status,
        "step_runs": [
            {
                "step_run_id": str(s.id),
                "step": s.step.name,
                "status": s.status,
                "attempt": s.attempt,
            }
            for s in step_runs
        ],
        "lines": [line.as_message() for line in lines],
    }


class RunConsumer(AsyncWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        await self.accept()
        caller = self.scope.get("caller")
        if caller is None:
            await self.close(code=UNAUTHORIZED)
            return
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        # Join before the snapshot so no update falls between the two.
        self.group = run_group(run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        snapshot = await database_sync_to_async(run_snapshot)(caller.tenant.id, run_id)
        if snapshot is None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.close(code=NOT_FOUND)
            return
        await self.send(text_data=json.dumps(snapshot))

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(
            text_data=json.dumps(
                {"type": "error", "code": "read_only", "message": "This socket only sends."}
            )
        )

    async def run_updates(self, event: dict[str, Any]) -> None:
        for update in event["updates"]:
            await self.send(text_data=json.dumps(update))
