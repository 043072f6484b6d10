"""The comparison websocket: the matrix, then each cell's progress as its run goes,
then its scores as the evaluators give them, with the columns' summary (against the
baseline the viewer chose with a `comparison.baseline` message), and the new attempts
a re-run of failed cells starts.

It listens to the run groups the engine's announcements already reach (one per
cell's run, see workflows.live), so the hot path does no extra work for it, and to
the comparison's group, where scoring says which cells it scored.
"""

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async
from typing_extensions import override

from hatchet.errors import InvalidRequest
from hatchet.sockets import NOT_FOUND, SendingConsumer, WatchConsumer
from playground.github.states import pull_request_group
from playground.models import Comparison, PlaygroundRun, PullRequestRequest
from playground.outcomes import (
    check_baseline,
    comparison_cells,
    comparison_matrix,
    comparison_summary,
)
from playground.scoring import comparison_group
from playground.serializers import (
    CellSerializer,
    ColumnSummarySerializer,
    ComparisonSerializer,
    PullRequestSerializer,
)
from workflows.live import RunWatch, SentLines, run_group
from workflows.models import WORKFLOW_RUN_TERMINAL, StepRun, StepRunStatus, WorkflowRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cell:
    row: int
    column: int
    run_id: str


@dataclass(frozen=True)
class Watched:
    comparison: Comparison
    cells: dict[str, Cell]
    # step run id -> (run id, step name), to place updates that only name a step run
    step_runs: dict[str, tuple[str, str]]


def watched_comparison(tenant_id: Any, comparison_id: str) -> Watched | None:
    comparison = (
        Comparison.objects.filter(tenant_id=tenant_id, pk=comparison_id)
        .select_related("workflow")
        .first()
    )
    if comparison is None:
        return None
    cells = {
        str(run_id): Cell(row or 0, column or 0, str(run_id))
        for run_id, row, column in PlaygroundRun.objects.filter(comparison=comparison).values_list(
            "run_id", "row", "column"
        )
    }
    step_runs = {
        str(step_run_id): (str(run_id), step)
        for step_run_id, run_id, step in StepRun.objects.filter(
            workflow_run_id__in=list(cells)
        ).values_list("id", "workflow_run_id", "step__name")
    }
    return Watched(comparison, cells, step_runs)


def matrix_message(comparison: Comparison) -> dict[str, Any]:
    matrix = ComparisonSerializer(comparison_matrix(comparison)).data
    return {"type": "comparison.snapshot", "comparison": matrix}


def cell_messages(comparison: Comparison, run_ids: Iterable[str]) -> list[dict[str, Any]]:
    cells = comparison_cells(comparison, [UUID(run_id) for run_id in run_ids])
    return [{"type": "cell", "cell": CellSerializer(cell).data} for cell in cells]


def summary_message(comparison: Comparison, baseline: int | None = None) -> dict[str, Any]:
    summed = comparison_summary(comparison, baseline)
    summary = ColumnSummarySerializer(summed["summary"], many=True).data
    return {"type": "comparison.summary", "baseline": summed["baseline"], "summary": summary}


# Far more than `{"type": "comparison.baseline", "baseline": 12}` needs.
BASELINE_MESSAGE_MAX = 200


def chosen_baseline(text: str | None, column_count: int) -> int:
    """The column a viewer's `{"type": "comparison.baseline", "baseline": N}` names."""
    if len(text or "") > BASELINE_MESSAGE_MAX:
        raise InvalidRequest(
            f"A message to this socket has at most {BASELINE_MESSAGE_MAX} characters."
        )
    try:
        message = json.loads(text or "")
    except ValueError:
        raise InvalidRequest("Send a JSON object.") from None
    if not isinstance(message, dict) or message.get("type") != "comparison.baseline":
        raise InvalidRequest(
            'This socket takes only {"type": "comparison.baseline", "baseline": N}.'
        )
    baseline = message.get("baseline")
    if isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 0:
        raise InvalidRequest("baseline must be a column number (0 or more).")
    return check_baseline(baseline, column_count)


def stream_lines(cells: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The cells' stream chunks as the lines they are."""
    return ({**chunk, "kind": "stream"} for cell in cells for chunk in cell["stream_chunks"])


class ComparisonConsumer(SendingConsumer):
    watched: Watched | None = None
    watches: list[RunWatch]
    finished: set[str]
    sent_lines: SentLines
    # The column the viewer holds the others against; None: the comparison's own.
    baseline: int | None = None
    # Cells (and the summary) to send again as they are now: read together by one task,
    # after the updates that asked for them. A 200-cell comparison changes ~800 times in
    # a few seconds, and a read per change (with a summary of every cell per scoring)
    # kept its viewers ~10 s behind the runs (bench/comparison.py --browser).
    pending_cells: set[str]
    # Each cell's run status as the socket last said it (in a cell or a cell.status).
    said_status: dict[str, str]
    summary_due: bool = False
    is_finish_sent: bool = False
    sender: "asyncio.Task[None] | None" = None

    async def connect(self) -> None:
        caller = await self.accept_caller()
        if caller is None:
            return
        comparison_id = self.scope["url_route"]["kwargs"]["comparison_id"]
        watched = await database_sync_to_async(watched_comparison)(caller.tenant.id, comparison_id)
        if watched is None:
            await self.close(code=NOT_FOUND)
            return
        # Join before the snapshot so no update falls between the two.
        for run_id in watched.cells:
            await self.channel_layer.group_add(run_group(run_id), self.channel_name)
        await self.channel_layer.group_add(
            comparison_group(watched.comparison.pk), self.channel_name
        )
        self.watched = watched
        self.pending_cells = set()
        self.watches = [RunWatch(watched.cells, self.send_changed_cells)]
        await self.watches[0].start()
        snapshot = await database_sync_to_async(matrix_message)(watched.comparison)
        cells = snapshot["comparison"]["cells"]
        self.finished = {cell["run_id"] for cell in cells if cell["is_finished"]}
        self.said_status = {cell["run_id"]: cell["status"] for cell in cells}
        self.sent_lines = SentLines(stream_lines(cells))
        await self.send_json(snapshot)

    @override
    async def disconnect(self, code: int) -> None:
        if self.sender is not None:
            self.sender.cancel()
        if self.watched is not None:
            for watch in self.watches:
                await watch.stop()
            for run_id in self.watched.cells:
                await self.channel_layer.group_discard(run_group(run_id), self.channel_name)
            await self.channel_layer.group_discard(
                comparison_group(self.watched.comparison.pk), self.channel_name
            )

    async def send_changed_cells(self) -> None:
        """The unfinished cells whose run's status is not what the socket said, as they
        are now: an update committed before a process saw this socket's marks went
        unsent. (A step's status missed then shows when its run's next one goes out.)"""
        if self.watched is None:
            return
        unfinished = [run_id for run_id in self.watched.cells if run_id not in self.finished]
        statuses = await database_sync_to_async(run_statuses)(unfinished)
        self.send_later(
            run_id for run_id in unfinished if statuses.get(run_id) != self.said_status.get(run_id)
        )

    async def run_updates(self, event: dict[str, Any]) -> None:
        for update in event["updates"]:
            await self.forward(update)

    async def forward(self, update: dict[str, Any]) -> None:
        if self.watched is None:
            raise RuntimeError("the socket watches no comparison")
        if update["type"] == "run.status":
            cell = self.watched.cells.get(update["run_id"])
            if cell is None:
                return
            self.said_status[cell.run_id] = update["status"]
            await self.send_json(
                {"type": "cell.status", **cell_place(cell), "status": update["status"]}
            )
            if update["status"] in WORKFLOW_RUN_TERMINAL:
                self.send_later([cell.run_id])
            return
        placed = self.watched.step_runs.get(update.get("step_run_id", ""))
        if placed is None:
            return
        cell, step = self.watched.cells[placed[0]], placed[1]
        if update["type"] == "step_run.status":
            await self.send_json(
                {
                    "type": "cell.step",
                    **cell_place(cell),
                    "step": step,
                    "step_run_id": update["step_run_id"],
                    "status": update["status"],
                    "attempt": update["attempt"],
                }
            )
            if update["status"] == StepRunStatus.SUCCEEDED:
                self.send_later([cell.run_id])
        elif update["type"] == "step_run.line" and self.sent_lines.is_new(update):
            await self.send_json(
                {
                    "type": "cell.stream" if update["kind"] == "stream" else "cell.log",
                    **cell_place(cell),
                    "step": step,
                    "step_run_id": update["step_run_id"],
                    "attempt": update["attempt"],
                    "seq": update["seq"],
                    "level": update["level"],
                    "text": update["text"],
                }
            )

    async def cells_scored(self, event: dict[str, Any]) -> None:
        """Scores were given: the cells again, with them, then the new summary."""
        if self.watched is None:
            raise RuntimeError("the socket watches no comparison")
        watched = self.watched.cells
        self.send_later([run_id for run_id in event["run_ids"] if run_id in watched], summary=True)

    def send_later(self, run_ids: Iterable[str], *, summary: bool = False) -> None:
        """Send these cells (and the summary) as they are once the sender gets to them,
        with every other cell that changed meanwhile, in one read."""
        self.pending_cells.update(run_ids)
        self.summary_due = self.summary_due or summary
        if self.sender is None or self.sender.done():
            self.sender = asyncio.ensure_future(self.send_pending())

    async def send_pending(self) -> None:
        try:
            while self.pending_cells or self.summary_due:
                run_ids, self.pending_cells = sorted(self.pending_cells), set()
                summary, self.summary_due = self.summary_due, False
                if run_ids:
                    await self.send_cells(run_ids)
                    await self.send_finished()
                if summary:
                    await self.send_summary()
        except Exception:
            # As a failing handler does: the socket closes, and the dashboard's
            # reconnection gets the comparison afresh.
            logger.exception("comparison socket: sending cells failed")
            await self.close()

    async def send_finished(self) -> None:
        if self.watched is None or self.is_finish_sent:
            return
        if len(self.finished) == len(self.watched.cells):
            self.is_finish_sent = True
            await self.send_json(
                {"type": "comparison.finished", "id": str(self.watched.comparison.pk)}
            )

    async def send_summary(self) -> None:
        if self.watched is None:
            raise RuntimeError("the socket watches no comparison")
        message = await database_sync_to_async(summary_message)(
            self.watched.comparison, self.baseline
        )
        await self.send_json(message)

    @override
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """A viewer's chosen baseline: the summary against it now, and from now on."""
        if self.watched is None:
            return
        try:
            self.baseline = chosen_baseline(text_data, len(self.watched.comparison.columns))
        except InvalidRequest as error:
            await self.send_json({"type": "error", "code": error.code, "message": error.message})
            return
        await self.send_summary()

    async def cells_added(self, event: dict[str, Any]) -> None:
        """A re-run started new attempts at failed cells: watch their runs too, and send
        each as it is now."""
        if self.watched is None:
            raise RuntimeError("the socket watches no comparison")
        comparison = self.watched.comparison
        added = await database_sync_to_async(watched_comparison)(
            comparison.tenant_id, comparison.pk
        )
        if added is None:
            return
        new = [run_id for run_id in event["run_ids"] if run_id in added.cells]
        for run_id in new:
            await self.channel_layer.group_add(run_group(run_id), self.channel_name)
        watch = RunWatch(new, self.send_changed_cells)
        self.watches.append(watch)
        await watch.start()
        self.watched = added
        self.is_finish_sent = False
        await self.send_cells(new)

    async def send_cells(self, run_ids: list[str]) -> None:
        """Send the cells as they are now. A cell counts as finished once it went out
        finished: a run that finishes while others are read is sent after them, and the
        comparison must not finish (dashboards stop listening then) before it is."""
        if self.watched is None:
            raise RuntimeError("the socket watches no comparison")
        comparison = self.watched.comparison
        messages = await database_sync_to_async(cell_messages)(comparison, run_ids)
        for message in messages:
            cell = message["cell"]
            self.sent_lines.add(stream_lines([cell]))
            self.said_status[cell["run_id"]] = cell["status"]
            await self.send_json(message)
            if cell["is_finished"]:
                self.finished.add(cell["run_id"])


def run_statuses(run_ids: list[str]) -> dict[str, str]:
    runs = WorkflowRun.objects.filter(pk__in=run_ids).values_list("id", "status")
    return {str(run_id): status for run_id, status in runs}


def cell_place(cell: Cell) -> dict[str, Any]:
    return {"row": cell.row, "column": cell.column, "run_id": cell.run_id}


def pull_request_snapshot(tenant_id: Any, request_id: str) -> dict[str, Any] | None:
    pull_request = (
        PullRequestRequest.objects.filter(tenant_id=tenant_id, pk=request_id)
        .select_related("workflow")
        .first()
    )
    if pull_request is None:
        return None
    return {
        "type": "pull_request.snapshot",
        "pull_request": PullRequestSerializer(pull_request).data,
    }


class PullRequestConsumer(WatchConsumer):
    """A pull request: a snapshot, then its state each time it changes (queued,
    running, opened with its URL or failed with the reason; then open, merged or
    closed on GitHub)."""

    def group_name(self, kwargs: dict[str, Any]) -> str:
        return pull_request_group(kwargs["request_id"])

    def snapshot(self, tenant_id: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        return pull_request_snapshot(tenant_id, kwargs["request_id"])

    async def pull_request_changed(self, event: dict[str, Any]) -> None:
        await self.send_json(event["message"])
