"""Where async code does its database work, and how sync code hands coroutines to
the server's event loop.

Channels' database_sync_to_async runs every consumer's calls on one shared thread,
so one slow transaction would hold up every socket of the process; the pool here
lets claims and reports of different workers overlap. Sync code (the engine's
after-commit announcements) runs in those threads or in request threads; it gives
its coroutines to the server's loop without waiting, instead of async_to_sync
starting a loop of its own each time.
"""

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

_executor = ThreadPoolExecutor(
    max_workers=settings.HATCHET_DB_THREADS, thread_name_prefix="hatchet-db"
)
_main_loop: list[tuple[asyncio.AbstractEventLoop, int]] = []


def with_fresh_connections(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    # As database_sync_to_async does: drop connections that broke or outlived their age.
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def in_db_thread(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    call = functools.partial(with_fresh_connections, function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor, call)


def remember_main_loop() -> None:
    """Called once from the server's event loop when it starts serving."""
    if not _main_loop:
        _main_loop.append((asyncio.get_running_loop(), threading.get_ident()))


def submit(coroutine_function: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run the coroutine on the server's loop without waiting for it; in a process
    with no server loop (a command, a Celery worker, a test), run it to the end.
    Either way its failure is logged, not raised: the callers announce work already
    committed, which Redis being down must not undo or stop (run_engine's tick)."""
    if _main_loop:
        loop, thread = _main_loop[0]
        future: Any
        if thread == threading.get_ident():
            future = loop.create_task(coroutine_function())
        else:
            future = asyncio.run_coroutine_threadsafe(coroutine_function(), loop)
        future.add_done_callback(log_failure)
        return
    try:
        async_to_sync(coroutine_function)()
    except Exception as exception:
        log_exception(exception)


def log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log_exception(future.exception())


def log_exception(exception: BaseException) -> None:
    logger.error("a submitted coroutine failed", exc_info=exception)
