"""Database helpers the hot paths and the periodic loops share."""

import contextlib
from collections.abc import Iterator

from django.db import close_old_connections, connection, connections


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
