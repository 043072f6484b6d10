"""Database helpers the hot paths and the periodic loops share."""

import contextlib
from collections.abc import Iterator

from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)


@contextlib.contextmanager
def pipelined() -> Iterator[None]:
    """On PostgreSQL, statements whose results are not read at once (writes, locks)
    travel together with the next statement that is read, in one round trip
    (psycopg's pipeline mode); elsewhere this changes nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


def is_transient(error: BaseException) -> bool:
    """Whether the database failed rather than refused: a lost or refused connection,
    or SQLite's lock. The same work may succeed when tried again."""
    return isinstance(error, OperationalError | InterfaceError)


def described(error: BaseException) -> str:
    """What the database said, without the query context it quotes back."""
    lines = []
    for line in str(error).splitlines():
        if line.startswith(("CONTEXT:", "LINE ")):
            break
        lines.append(" ".join(line.split()))
    return " ".join(lines)[:500] or type(error).__name__


def drop_broken_connections() -> None:
    """After a failure: close this thread's connections that broke and, on PostgreSQL,
    test the idle ones of the pool (a restart or pg_terminate_backend broke them all
    at once), so that the next attempt connects afresh instead of failing on each
    dead connection in turn."""
    close_old_connections()
    for each in connections.all(initialized_only=True):
        pool = getattr(each, "pool", None)
        if pool is not None:
            pool.check()
