"""The check a pooled PostgreSQL connection passes as the pool hands it out.

psycopg_pool's own check (what Django installs with CONN_HEALTH_CHECKS) sends an empty
query, a round trip on every checkout: the server's database threads take a
connection for each piece of work, so that was a round trip per trigger and per
report batch. A connection that PostgreSQL ended while it sat in the pool (a restart,
pg_terminate_backend, an idle timeout) has been sent an error or an end of stream,
which makes its socket readable; an idle connection that is fine has nothing to read.
So only a connection with something to read, or one already known closed, pays the
round trip, which raises for a dead one and makes the pool connect afresh. A network
that drops packets silently is found out by the statement that follows, as before
(the callers retry what is transient).
"""

import select
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool


def check_pooled_connection(connection: psycopg.Connection[Any]) -> None:
    if connection.closed:
        raise psycopg.OperationalError("the pooled connection is closed")
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(connection)
