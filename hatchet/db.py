"""Database helpers the hot paths and the periodic loops share."""

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

R = TypeVar("R")

TRANSACTION_ID_SQL = "SELECT pg_current_xact_id_if_assigned()"
# The open transaction's id as the last pipeline of this thread read it (pipelined).
_read_at_sync = threading.local()


@contextlib.contextmanager
def pipelined() -> Iterator[None]:
    """On PostgreSQL, statements whose results are not read at once (writes, locks)
    travel together with the next statement that is read, in one round trip
    (psycopg's pipeline mode); elsewhere this changes nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    # Leaving the pipeline syncs it: a connection lost meanwhile fails there, with
    # psycopg's error, which Django's wrapper turns into its own like any statement's;
    # the statements the sync carried failed, which the request's ledger must hear of
    # (caught outside the wrapper: inside, the error is still psycopg's).
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            yield
            # The commit must know the transaction's id before it sends COMMIT
            # (hatchet/postgresql/base.py); read with the sync, it costs no round trip
            # of its own there. An id once given stays the transaction's, so a later
            # pipeline of the same transaction need not ask again.
            asked = (
                connection.connection.execute(TRANSACTION_ID_SQL)
                if connection.in_atomic_block and transaction_id_read_at_sync() is None
                else None
            )
        if asked is not None:
            row = asked.fetchone()
            _read_at_sync.xid = None if row is None else row[0]
    except DatabaseError:
        note_failed_statement()
        raise


def transaction_id_read_at_sync() -> Any:
    """The open transaction's id, if a pipeline of this thread read it since the
    transaction began; None if not (or if it had none yet)."""
    return getattr(_read_at_sync, "xid", None)


def forget_transaction_id() -> None:
    """A transaction begins or ends on this thread: an id read before is not its."""
    _read_at_sync.xid = None


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
    check_pools()


def check_pools() -> None:
    """Test the idle connections of each PostgreSQL pool, discarding the dead: the
    pool hands out unchecked those whose socket has nothing to read (hatchet/pgpool.py)."""
    for each in connections.all(initialized_only=True):
        pool = getattr(each, "pool", None)
        if pool is not None:
            pool.check()


_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE")
_ledgers = threading.local()


class WriteLedger:
    """Watches one call's statements on this thread's default connection to tell,
    when the database fails, whether the call may have changed anything: only a
    transaction whose commit was tried (or a write outside a transaction) may have.
    A transaction that failed in one of its statements, its commit not yet tried, was
    rolled back by the database."""

    def __init__(self) -> None:
        self.committed = False
        self.uncommitted_writes = False
        self.last_statement_failed = False
        self.repeatable_writes = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        in_transaction = context["connection"].in_atomic_block
        if self.repeatable_writes:
            pass
        elif sql.lstrip().upper().startswith(_WRITES):
            if in_transaction:
                if not self.uncommitted_writes:
                    self.uncommitted_writes = True
                    context["connection"].on_commit(self.note_commit)
            else:
                self.committed = True
        elif not in_transaction:
            # Its transaction ended without a commit (on_commit would have run first).
            self.uncommitted_writes = False
        self.last_statement_failed = False
        try:
            return execute(sql, params, many, context)
        except DatabaseError:
            self.last_statement_failed = True
            raise

    def note_commit(self) -> None:
        self.committed = True
        self.uncommitted_writes = False

    def wrote_nothing(self) -> bool:
        return not self.committed and (not self.uncommitted_writes or self.last_statement_failed)


@contextlib.contextmanager
def harmless_to_repeat() -> Iterator[None]:
    """Writes inside change nothing that doing them again would not (a timestamp of
    last use): a call that made them may still be served once more."""
    ledger = getattr(_ledgers, "current", None)
    if ledger is None:
        yield
        return
    ledger.repeatable_writes = True
    try:
        yield
    finally:
        ledger.repeatable_writes = False


def note_failed_statement() -> None:
    ledger = getattr(_ledgers, "current", None)
    if ledger is not None:
        ledger.last_statement_failed = True


def once_more_if_nothing_written(call: Callable[[], R], before_retry: Callable[[], None]) -> R:
    """Run `call`; if it fails on a lost or refused connection having changed nothing,
    reconnect and run it once more (a pooled connection can die between its check and
    its use, or under a running request). Inside a transaction of the caller's it
    runs once: the caller's transaction is lost with the connection."""
    if connection.in_atomic_block:
        return call()
    ledger = WriteLedger()
    _ledgers.current = ledger
    try:
        with connection.execute_wrapper(ledger):
            try:
                return call()
            except (OperationalError, InterfaceError):
                if not ledger.wrote_nothing():
                    raise
        close_broken_connections()
        before_retry()
        return call()
    finally:
        _ledgers.current = None


def close_broken_connections() -> None:
    """Close this thread's connections that failed, so that the next statement gets a
    new one, not another the same fault (a restart, pg_terminate_backend) broke."""
    for each in connections.all(initialized_only=True):
        if each.connection is not None and not each.in_atomic_block:
            each.close()
    check_pools()
