"""Django's SQLite backend, with writers that never collide.

SQLite takes one writer at a time. Its own queue is a busy handler that polls with
growing sleeps, and it answers "database is locked" at once, without waiting at all,
to a connection whose read snapshot is older than the last commit: one that still has
a statement open (a cursor left unfinished) when it begins to write. Here a process's
write transactions queue on one lock (in order, and with no polling), and a
transaction refused at once for an old snapshot starts again on a fresh connection.
"""

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One per process: every thread's connection goes through it to begin a write.
_writer = threading.Lock()


class PercentileDisc:
    """PostgreSQL's percentile_disc(fraction) WITHIN GROUP (ORDER BY value), which
    SQLite lacks, as PERCENTILE_DISC(value, fraction): the first value, in order, at or
    past the fraction of the values (NULLs left out); NULL when there are none."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.0

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        self.values.sort()
        return self.values[max(math.ceil(self.fraction * len(self.values)), 1) - 1]


class DatabaseWrapper(base.DatabaseWrapper):
    holds_writer = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # The test suite's in-memory database is one shared cache, whose locks are per
        # table and refuse at once: a reader would fail a writer in another thread with
        # "database table is locked". Reading without read locks lets the writer go on.
        if self.is_in_memory_db():
            connection.execute("PRAGMA read_uncommitted = 1")
        connection.create_aggregate("PERCENTILE_DISC", 2, PercentileDisc)
        return connection

    def busy_timeout(self) -> float:
        return float(self.settings_dict["OPTIONS"].get("timeout", 5))

    # Not in django-stubs: the method the SQLite backend begins a transaction with.
    def _start_transaction_under_autocommit(self) -> None:
        if not _writer.acquire(timeout=self.busy_timeout()):
            raise OperationalError("database is locked (waited for this process's writers)")
        self.holds_writer = True
        try:
            began = time.monotonic()
            try:
                super()._start_transaction_under_autocommit()  # type: ignore[misc]
            except OperationalError:
                if time.monotonic() - began >= self.busy_timeout() / 2:
                    raise  # another process held the database all along
                # Refused without waiting: this connection reads an old snapshot.
                self.connection.close()
                self.connect()
                super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self.release_writer()
            raise

    # A transaction ends, or its connection goes, whichever way: the next writer's turn.
    def commit(self) -> None:
        with self.writer_released():
            super().commit()

    def rollback(self) -> None:
        with self.writer_released():
            super().rollback()

    def close(self) -> None:
        with self.writer_released():
            super().close()

    @contextlib.contextmanager
    def writer_released(self) -> Iterator[None]:
        try:
            yield
        finally:
            self.release_writer()

    def release_writer(self) -> None:
        if self.holds_writer:
            self.holds_writer = False
            _writer.release()
