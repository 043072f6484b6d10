"""Which runs' updates are sent: only those some socket watches."""

import asyncio
import time
import uuid

import pytest
from django.conf import settings

from workflows.live import (
    MARKS_COPY_SECONDS,
    WATCHED_RUNS_KEY,
    RunWatch,
    redis_client,
    watched_among,
)


def run_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


async def nothing_to_read_again() -> None:
    pass


def test_only_the_runs_a_socket_watches_are_watched() -> None:
    asyncio.run(watch_and_stop())


async def watch_and_stop() -> None:
    watched, other = run_ids(2)
    watch = RunWatch([watched], nothing_to_read_again)
    assert watched_among([watched, other]) == []

    await watch.start()
    assert watched_among([watched, other]) == [watched]

    await watch.stop()
    if not settings.REDIS_URL:
        # One process counts its own sockets exactly; Redis marks lapse instead.
        assert watched_among([watched, other]) == []


def test_two_sockets_on_one_run_keep_it_watched_until_both_stop() -> None:
    if settings.REDIS_URL:
        pytest.skip("with Redis, marks lapse by time (next test)")
    asyncio.run(two_watches())


async def two_watches() -> None:
    [run] = run_ids(1)
    first, second = RunWatch([run], nothing_to_read_again), RunWatch([run], nothing_to_read_again)
    await first.start()
    await second.start()
    await first.stop()
    assert watched_among([run]) == [run]
    await second.stop()
    assert watched_among([run]) == []


def test_a_lapsed_mark_in_redis_is_not_watched() -> None:
    if not settings.REDIS_URL:
        pytest.skip("marks are kept in Redis only when there is one")
    lapsed, fresh = run_ids(2)
    redis_client().zadd(WATCHED_RUNS_KEY, {lapsed: time.time() - 1, fresh: time.time() + 60})
    # As another process's socket marks them: seen once this process's copy is read again.
    time.sleep(MARKS_COPY_SECONDS)
    assert watched_among([lapsed, fresh]) == [fresh]
