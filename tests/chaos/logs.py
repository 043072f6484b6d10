"""Reading the processes' logs for evidence: the errors a server logged around a
moment, the lines that name an id, and when a worker was connected.

Server, tick and worker logs use Python logging's format
(`2026-12-02 20:18:31,864 ERROR name: message`, local time); Daphne's access log lines
sit between them.
"""

import itertools
import re
from datetime import datetime
from pathlib import Path

# Daphne's access log: `127.0.0.1:41234 - - [02/Dec/2026:20:19:24] "GET ...`.
ACCESS_LOG_LINE = re.compile(r"\S+:\d+ - - \[")
# The SDK's lines (hatchet/sdk/worker.py) for a worker connecting and losing its connection.
CONNECTED_LINE = re.compile(r"INFO hatchet\.sdk: worker \S+ (connected|reconnected) as ")
LOST_LINE = re.compile(r"WARNING hatchet\.sdk: worker connection to \S+ lost")
# A worker's REST call (httpx's line) or socket handshake answered with a 5xx.
WORKER_SAW_5XX = re.compile(r'"HTTP/1\.1 5\d\d|handshake refused with HTTP 5\d\d')

Record = tuple[float | None, list[str]]


def log_time(line: str) -> float | None:
    """The time a line of Python logging starts with, None for any other line."""
    try:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return None


def log_records(log: Path) -> list[Record]:
    """The log's records: a line with logging's time and the lines that follow it."""
    records: list[Record] = []
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        logged = log_time(line)
        if logged is not None or not records:
            records.append((logged, [line]))
        else:
            records[-1][1].append(line)
    return records


def final_exception(lines: list[str]) -> str | None:
    """The exception the last traceback in `lines` ended with: a line at the margin right
    after a frame's indented source line."""
    found = None
    for previous, line in itertools.pairwise(lines):
        if line and not line[0].isspace() and previous.startswith("    "):
            found = line
    return found


def errors_near(log: Path, at: float, window: float = 3.0) -> list[str]:
    """The ERROR records of a log within `window` s of `at`, each as its first line and
    the exception it ended with."""
    shown = []
    for logged, lines in log_records(log):
        near = logged is not None and abs(logged - at) <= window
        if near and (" ERROR " in lines[0] or " CRITICAL " in lines[0]):
            exception = final_exception(lines)
            shown.append(f"    {lines[0][:200]}" + (f" -> {exception[:200]}" if exception else ""))
    return shown[:10] or [f"    no ERROR line in {log.name} within {window:g} s"]


def lines_naming(logs: Path, texts: list[str], limit: int = 12) -> list[str]:
    """Lines of every log under `logs` that name one of `texts` (ids of a run, a step
    run, a worker), the HTTP access log left out."""
    found = [
        f"    {path.name}: {line[:300]}"
        for path in sorted(logs.glob("*.log"))
        for line in path.read_text(errors="replace").splitlines()
        if any(text in line for text in texts) and not ACCESS_LOG_LINE.match(line)
    ]
    return found[:limit] or [f"    no log line names {', '.join(texts)}"]


def connected_spans(worker_log: Path) -> list[tuple[float, float]]:
    """When a worker process had a registered connection, from its log."""
    spans: list[tuple[float, float]] = []
    since: float | None = None
    for logged, lines in log_records(worker_log):
        if logged is None:
            continue
        if CONNECTED_LINE.search(lines[0]):
            since = logged if since is None else since
        elif LOST_LINE.search(lines[0]) and since is not None:
            spans.append((since, logged))
            since = None
    if since is not None:
        spans.append((since, float("inf")))
    return spans


def seconds_within(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """How much of [start, end] the spans cover."""
    return sum(max(0.0, min(end, stop) - max(start, begin)) for begin, stop in spans)
