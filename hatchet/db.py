"""Database helpers the hot paths share."""

import contextlib
from collections.abc import Iterator

from django.db import InterfaceError, OperationalError, connection


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
