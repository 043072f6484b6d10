"""Database helpers the hot paths share."""

import contextlib
from collections.abc import Iterator

from django.db import connection


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
