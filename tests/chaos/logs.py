"""Reading the processes' logs for evidence: the errors a server logged around a
moment, the lines that name an id, and when a worker was connected.

Server, tick and worker logs use Python logging's format
(`2026-12-02 20:18:31,864 ERROR name: message`, local time); Daphne's access log lines
sit between them and are left out.
"""

import itertools
import re
from datetime import datetime
from pathlib import Path

# Daphne's access log: `127.0.0.1:41234 - - [02/Dec/2026:20:19:24] "GET ...`.
ACCESS_LOG_LINE = re.compile(r"\S+:\d+ - - \[")
# The SDK's lines (hatchet/sdk/connection.py) for a worker connecting and losing its connection.
CONNECTED_LINE = re.compile(r"INFO hatchet\.sdk: worker \S+ (connected|reconnected) as ")
LOST_LINE = re.compile(r"WARNING hatchet\.sdk: worker connection to \S+ lost")
# A worker's REST call (httpx's line) or socket handshake answered with a 5xx.
WORKER_SAW_5XX = re.compile(r'"HTTP/1\.1 5\d\d|handshake refused with HTTP 5\d\d')

# A line with logging's time (None if it has none) and the lines that follow it.
Record = tuple[float | None, list[str]]


class Logs:
    """The logs of a run's processes (`<name>.log` in one directory), each read once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._records: dict[str, list[Record]] = {}

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(path.stem for path in self.directory.glob(f"{pattern}.log"))

    def records(self, name: str) -> list[Record]:
        if name not in self._records:
            path = self.directory / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            records: list[Record] = []
            for line in text.splitlines():
                if ACCESS_LOG_LINE.match(line):
                    continue
                logged = log_time(line)
                if logged is not None or not records:
                    records.append((logged, [line]))
                else:
                    records[-1][1].append(line)
            self._records[name] = records
        return self._records[name]

    def naming(self, texts: list[str], limit: int = 12) -> list[str]:
        """Lines of every log that name one of `texts` (ids of a run, a step run, a worker)."""
        found = [
            f"    {name}: {line[:300]}"
            for name in self.names()
            for _, lines in self.records(name)
            for line in lines
            if any(text in line for text in texts)
        ]
        return found[:limit] or [f"    no log line names {', '.join(texts)}"]

    def errors_near(self, name: str, at: float, window: float = 3.0) -> list[str]:
        """The ERROR records of a log within `window` s of `at`, each as its first line
        and the exception it ended with."""
        shown = []
        for logged, lines in self.records(name):
            near = logged is not None and abs(logged - at) <= window
            if near and (" ERROR " in lines[0] or " CRITICAL " in lines[0]):
                exception = final_exception(lines)
                ending = f" -> {exception[:200]}" if exception else ""
                shown.append(f"    {lines[0][:200]}{ending}")
        return shown[:10] or [f"    no ERROR line in {name}.log within {window:g} s"]

    def connected_spans(self, worker: str) -> list[tuple[float, float]]:
        """When a worker process had a registered connection, from its log."""
        spans: list[tuple[float, float]] = []
        since: float | None = None
        for logged, lines in self.records(worker):
            if logged is None:
                continue
            if CONNECTED_LINE.search(lines[0]):
                since = logged if since is None else since
            elif LOST_LINE.search(lines[0]) and since is not None:
                spans.append((since, logged))
                since = None
        if since is not None:
            spans.append((since, float("inf")))
        if not spans:
            # Every worker the harness starts registers before the load; no line saying
            # so means the SDK's wording changed, and every kill would look explained.
            raise ValueError(f"{worker}.log has no line matching {CONNECTED_LINE.pattern!r}")
        return spans


def log_time(line: str) -> float | None:
    """The time a line of Python logging starts with, None for any other line."""
    try:
        return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    except ValueError:
        return None


def final_exception(lines: list[str]) -> str | None:
    """The exception the last traceback in `lines` ended with: a line at the margin right
    after a frame's indented source line."""
    found = None
    for previous, line in itertools.pairwise(lines):
        if line and not line[0].isspace() and previous.startswith("    "):
            found = line
    return found


def seconds_within(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """How much of [start, end] the spans cover."""
    return sum(max(0.0, min(end, stop) - max(start, begin)) for begin, stop in spans)
