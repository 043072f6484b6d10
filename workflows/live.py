"""Live run updates: the engine's announcements go to the sockets watching each run.

Under load nearly no run has a watcher, so sockets mark the runs they watch and only
the updates of marked runs are sent. With Redis, the marks live there (a sorted set
scored by expiry, renewed while the socket stays open) so that every server process
sees every other process's watchers; without it, the one process counts its own.

A process decides from its own sockets and a copy of the marks in Redis read at most
MARKS_COPY_SECONDS ago (asking Redis at every committing transaction was 8% of a
server's time under load): an update committed elsewhere just after a socket marked
its run may go unsent, so the socket reads its run again once every copy holds its
mark (SETTLED_SECONDS) and sends what changed.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from hatchet.concurrency import submit
from workflows.signals import RunUpdate, runs_updated

logger = logging.getLogger(__name__)

WATCHED_RUNS_KEY = "hatchet:watched-runs"
# A mark outlives a server that died without removing it by at most this long.
MARK_SECONDS = 60.0
# How old a process's copy of the marks may be when it sends updates, and when a new
# watcher's run has surely been read again since (a copy's age counts from before
# its read; the margin covers the read and the handing of updates to the layer).
MARKS_COPY_SECONDS = 0.2
SETTLED_SECONDS = MARKS_COPY_SECONDS + 0.3

_local_watchers: Counter[str] = Counter()
_redis: Any = None


def run_group(workflow_run_id: Any) -> str:
    return f"run.{workflow_run_id}"


def redis_client() -> Any:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
    return _redis


def mark_watched(run_ids: list[str]) -> None:
    if settings.REDIS_URL:
        now = time.time()
        pipeline = redis_client().pipeline(transaction=False)
        pipeline.zadd(WATCHED_RUNS_KEY, dict.fromkeys(run_ids, now + MARK_SECONDS))
        pipeline.zremrangebyscore(WATCHED_RUNS_KEY, "-inf", now)
        pipeline.execute()


class MarksCopy:
    """This process's copy of the runs marked in Redis, read again when it is older
    than MARKS_COPY_SECONDS (by one thread; the others wait for its read)."""

    def __init__(self) -> None:
        self.runs: frozenset[str] = frozenset()
        self.read_at = -float("inf")
        self.lock = threading.Lock()

    def current(self) -> frozenset[str]:
        if time.monotonic() - self.read_at < MARKS_COPY_SECONDS:
            return self.runs
        with self.lock:
            started = time.monotonic()
            if started - self.read_at >= MARKS_COPY_SECONDS:
                marked = redis_client().zrangebyscore(WATCHED_RUNS_KEY, time.time(), "+inf")
                self.runs = frozenset(run_id.decode() for run_id in marked)
                self.read_at = started
            return self.runs


_marks = MarksCopy()


def watched_among(run_ids: list[str]) -> list[str]:
    """The runs among these that some socket watches (all of them if that cannot be
    told: a lost update costs a watcher more than a needless one costs the server)."""
    if not settings.REDIS_URL:
        return [run_id for run_id in run_ids if _local_watchers[run_id] > 0]
    try:
        marked = _marks.current()
    except Exception:
        logger.warning("could not read which runs are watched", exc_info=True)
        return run_ids
    return [run_id for run_id in run_ids if run_id in marked or _local_watchers[run_id] > 0]


class RunWatch:
    """The runs one socket watches, marked from start() (call it before reading the
    snapshot, so that no update falls between the two) until stop(). With Redis,
    `on_settled` is awaited once every process's copy of the marks holds them: the
    socket reads its runs again then, for what an update may not have said."""

    def __init__(self, run_ids: Iterable[Any], on_settled: Callable[[], Awaitable[None]]) -> None:
        self.run_ids = [str(run_id) for run_id in run_ids]
        self.on_settled = on_settled
        self.renewal: asyncio.Task[None] | None = None

    async def start(self) -> None:
        _local_watchers.update(self.run_ids)
        await sync_to_async(mark_watched, thread_sensitive=False)(self.run_ids)
        if settings.REDIS_URL:
            self.renewal = asyncio.create_task(self.keep_marked())

    async def keep_marked(self) -> None:
        await asyncio.sleep(SETTLED_SECONDS)
        await self.on_settled()
        while True:
            await asyncio.sleep(min(settings.HATCHET_LIVE_REREAD_INTERVAL, MARK_SECONDS / 3))
            try:
                await sync_to_async(mark_watched, thread_sensitive=False)(self.run_ids)
            except Exception:
                logger.warning("could not renew the marks of watched runs", exc_info=True)
            # An update published while Redis was down is lost, and nothing tells the
            # socket: reading its runs again now and then sends what it missed.
            try:
                await self.on_settled()
            except Exception:
                logger.warning("could not read the watched runs again", exc_info=True)

    async def stop(self) -> None:
        if self.renewal is not None:
            self.renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.renewal
        _local_watchers.subtract(self.run_ids)
        for run_id in self.run_ids:
            if _local_watchers[run_id] <= 0:
                del _local_watchers[run_id]


class SentLines:
    """The log lines and stream chunks one socket has sent. A socket joins its groups
    before it reads its snapshot, so the updates of lines stored in between reach it
    after a snapshot that already holds them (as do those of lines a re-read brings);
    a socket asks before it sends a line, and so sends each one once."""

    def __init__(self, lines: Iterable[Mapping[str, Any]] = ()) -> None:
        self.seqs: defaultdict[tuple[str, int, str], set[int]] = defaultdict(set)
        self.add(lines)

    def add(self, lines: Iterable[Mapping[str, Any]]) -> None:
        for line in lines:
            self.seqs[(str(line["step_run_id"]), line["attempt"], line["kind"])].add(line["seq"])

    def is_new(self, line: Mapping[str, Any]) -> bool:
        """Whether the line was not sent yet; from now on it counts as sent."""
        seqs = self.seqs[(str(line["step_run_id"]), line["attempt"], line["kind"])]
        if line["seq"] in seqs:
            return False
        seqs.add(line["seq"])
        return True


def on_runs_updated(updates: list[RunUpdate], **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for update in updates:
        by_run[str(update.workflow_run_id)].append(update.message)
    watched = watched_among(list(by_run))
    if not watched:
        return

    async def send_all() -> None:
        # One message per run per transaction, however many rows it changed.
        await asyncio.gather(
            *(
                layer.group_send(
                    run_group(run_id), {"type": "run.updates", "updates": by_run[run_id]}
                )
                for run_id in watched
            )
        )

    submit(send_all)


def subscribe_to_engine() -> None:
    runs_updated.connect(on_runs_updated, dispatch_uid="workflows.live")
