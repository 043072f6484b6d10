"""The embedded database's writers never collide (hatchet/sqlite): a connection that
left a statement unfinished still begins its next write, and in the tests' shared
in-memory database a reader in one thread does not fail a writer in another."""

import threading
from pathlib import Path
from typing import Any

from django.db.utils import ConnectionHandler


def embedded_database(path: Path) -> ConnectionHandler:
    """Connections to a SQLite file configured as the embedded mode's (WAL, IMMEDIATE
    transactions, the busy timeout), one per thread."""
    return ConnectionHandler(
        {
            "default": {
                "ENGINE": "hatchet.sqlite",
                "NAME": str(path),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 30,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=30000;",
                },
            }
        }
    )


def write(db: Any, n: int) -> None:
    """A write transaction, begun as transaction.atomic() begins one."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO numbers (n) VALUES (%s)", [n])
    db.commit()
    db.set_autocommit(True)


def test_a_write_begins_on_a_connection_that_left_a_statement_unfinished(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    """SQLite refuses at once, without its busy timeout, a write from a connection whose
    read snapshot is older than the last commit; an unfinished statement keeps one."""
    with django_db_blocker.unblock():
        writes_after_an_unfinished_statement(embedded_database(tmp_path / "db.sqlite3"))


def writes_after_an_unfinished_statement(connections: ConnectionHandler) -> None:
    db = connections["default"]
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE numbers (n INTEGER)")
    for n in range(10):
        write(db, n)
    unfinished = db.cursor()
    unfinished.execute("SELECT n FROM numbers ORDER BY n")
    assert unfinished.fetchone() == (0,)

    def commit_elsewhere() -> None:
        write(connections["default"], 100)
        connections["default"].close()

    other = threading.Thread(target=commit_elsewhere)
    other.start()
    other.join()
    write(db, 101)

    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM numbers")
        assert cursor.fetchone() == (12,)
    db.close()


def test_a_reader_does_not_fail_a_writer_in_the_shared_in_memory_database(
    django_db_blocker: Any,
) -> None:
    """The tests' in-memory database is one shared cache with a lock per table that
    refuses at once: a task's write failed with "database table is locked" while the
    test read the same table, waiting for the task (test_evidence, CI on ed81fd1)."""
    connections = ConnectionHandler(
        {
            "default": {
                "ENGINE": "hatchet.sqlite",
                "NAME": "file:readers?mode=memory&cache=shared",
                "OPTIONS": {"uri": True, "transaction_mode": "IMMEDIATE", "timeout": 5},
            }
        }
    )
    with django_db_blocker.unblock():
        reader = connections["default"]
        with reader.cursor() as cursor:
            cursor.execute("CREATE TABLE numbers (n INTEGER)")
        for n in range(10):
            write(reader, n)
        unfinished = reader.cursor()
        unfinished.execute("SELECT n FROM numbers ORDER BY n")
        assert unfinished.fetchone() == (0,)
        errors: list[Exception] = []

        def write_elsewhere() -> None:
            try:
                write(connections["default"], 100)
            except Exception as error:
                errors.append(error)
            finally:
                connections["default"].close()

        writer = threading.Thread(target=write_elsewhere)
        writer.start()
        writer.join()
        unfinished.close()
        assert errors == []
        reader.close()
