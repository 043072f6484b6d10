"""The run websocket: a snapshot of the run, then its updates as they happen."""

from typing import Any

from hatchet.sockets import WatchConsumer
from workflows.live import run_group
from workflows.models import StepRunLine, WorkflowRun


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


class RunConsumer(WatchConsumer):
    def group_name(self, kwargs: dict[str, Any]) -> str:
        return run_group(kwargs["run_id"])

    def snapshot(self, tenant_id: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        return run_snapshot(tenant_id, kwargs["run_id"])

    async def run_updates(self, event: dict[str, Any]) -> None:
        for update in event["updates"]:
            await self.send_json(update)
