"""Django's PostgreSQL backend, with commits whose outcome is found out when the
connection is lost during them, and pooled connections checked cheaply.

A connection that breaks while COMMIT is on its way (a database restart,
pg_terminate_backend, a dropped network) leaves the client not knowing whether the
transaction committed. The transaction's id, read just before the commit, settles it:
asked on another connection, PostgreSQL says whether that transaction committed or
aborted. A committed one goes on as the commit it was (on a new connection); an
aborted one changed nothing, and fails as a statement that failed would, so that the
request may be served again (hatchet/db.py); one whose fate cannot be read fails as
before, its outcome unknown.
"""

import logging
import time
from typing import Any

import psycopg
from django.db import DatabaseError
from django.db.backends.postgresql import base

from hatchet.db import (
    TRANSACTION_ID_SQL,
    forget_transaction_id,
    note_failed_statement,
    transaction_id_read_at_sync,
)
from hatchet.pgpool import check_pooled_connection
from hatchet.postgresql import arrays  # noqa: F401  (registers its dumper before a connection exists)

logger = logging.getLogger(__name__)

# How long a transaction whose client is gone may stay "in progress": the server
# aborts it once it notices the lost client, or finishes the commit it received.
SETTLE_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        """Django's pool, checking the connections it hands out with
        check_pooled_connection. Django builds the pool itself and passes psycopg_pool
        no check of ours (only its own round trip, with CONN_HEALTH_CHECKS)."""
        pool = super().pool  # type: ignore[misc]  # not in django-stubs
        if pool is not None and pool._check is not check_pooled_connection:
            pool._check = check_pooled_connection
        return pool

    # Not in django-stubs: what Django calls as a transaction begins and ends.
    def _set_autocommit(self, autocommit: bool) -> None:
        forget_transaction_id()
        super()._set_autocommit(autocommit)  # type: ignore[misc]

    # Not in django-stubs: the method Django's commit() sends COMMIT with.
    def _commit(self) -> None:
        if self.connection is None:
            return
        xid = transaction_id_read_at_sync()
        if xid is None:
            try:
                with self.wrap_database_errors:
                    row = self.connection.execute(TRANSACTION_ID_SQL).fetchone()
            except DatabaseError:
                # Broken before COMMIT was sent: the transaction cannot have committed.
                note_failed_statement()
                raise
            xid = None if row is None else row[0]
        try:
            super()._commit()  # type: ignore[misc]
        except DatabaseError:
            status = None if xid is None else self.transaction_status(xid)
            if status == "committed":
                logger.warning(
                    "database: the connection broke during a commit that went through "
                    "(transaction %s); going on with a new connection",
                    xid,
                )
                # Back to the pool, which discards it; the next statement connects anew.
                self._close()  # type: ignore[attr-defined]
                self.connection = None
                return
            if status == "aborted":
                note_failed_statement()
            raise

    def transaction_status(self, xid: object) -> str | None:
        """'committed', 'aborted' or 'in progress', as a new connection sees it; None
        when the database cannot be asked."""
        settings = self.settings_dict
        deadline = time.monotonic() + SETTLE_SECONDS
        try:
            with psycopg.connect(
                dbname=settings["NAME"],
                user=settings["USER"],
                password=settings["PASSWORD"],
                host=settings["HOST"],
                port=settings["PORT"] or None,
                autocommit=True,
                connect_timeout=5,
            ) as other:
                while True:
                    row = other.execute("SELECT pg_xact_status(%s::xid8)", (str(xid),)).fetchone()
                    status = None if row is None else row[0]
                    if status != "in progress" or time.monotonic() >= deadline:
                        return status
                    time.sleep(0.1)
        except psycopg.Error:
            return None
