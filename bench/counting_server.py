"""`manage.py serve`, plus a count of the server's cursor calls and the time they took.

Usage: python -m bench.counting_server --port P --counts FILE

The engine is not changed: a Django execute wrapper is added to every database connection
the process opens, and a thread writes the running totals to FILE every
COUNT_FLUSH_INTERVAL seconds, so the harness can difference them around a phase: the
calls by leading SQL keyword (`calls`; an `executemany` is one call, however many rows
PostgreSQL executes: PostgreSQL's own count is in bench/cost.py) and the wall-clock
seconds the server's threads spent waiting in them (`seconds`: the database's share of a
step as the server sees it, round trips included, commits not, as they are no cursor
calls). The wrapper costs one Python call and two clock reads per call, about a
microsecond.
"""

import argparse
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

COUNT_FLUSH_INTERVAL = 0.2

_counts: Counter[str] = Counter()
_seconds = [0.0]
_lock = threading.Lock()


def count_statement(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "OTHER"
    began = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        waited = time.perf_counter() - began
        with _lock:
            _counts[kind] += 1
            _seconds[0] += waited


def install_counter(connection: Any, **kwargs: Any) -> None:
    # connection_created fires again on every reconnect of the same wrapper object.
    if count_statement not in connection.execute_wrappers:
        connection.execute_wrappers.append(count_statement)


def write_counts_forever(path: Path) -> None:
    while True:
        time.sleep(COUNT_FLUSH_INTERVAL)
        with _lock:
            snapshot = {"calls": dict(_counts), "seconds": _seconds[0]}
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(snapshot))
        os.replace(temporary, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--counts", type=Path, required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hatchet.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.backends.signals import connection_created

    connection_created.connect(install_counter)
    threading.Thread(target=write_counts_forever, args=(args.counts,), daemon=True).start()
    call_command("serve", port=args.port)


if __name__ == "__main__":
    main()
