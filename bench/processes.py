"""Child processes of the harness: each in its own process group, always stopped.

Every process the harness starts goes through `Processes`, a context manager whose exit
stops them all (SIGTERM to the group, then SIGKILL), on success, failure or Ctrl-C alike.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType

from bench.livestack import ROOT

_STOP_TIMEOUT = 10.0


class BenchError(RuntimeError):
    """Something the benchmark needs did not happen in time; the message says what."""


class Processes:
    """Starts child processes with their output in log files and stops them all on exit."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self._started: list[subprocess.Popen[bytes]] = []

    def start(
        self, args: list[str], env: dict[str, str], log_path: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a child; its output goes to `log_path` (appended) if given, else to the
        shared log."""
        # A new session makes the child a process group leader, so stopping the group
        # also stops what it forks (Celery's pool children).
        with contextlib.ExitStack() as own_log:
            output = self._log if log_path is None else own_log.enter_context(open(log_path, "ab"))
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """Stop one process group: SIGTERM, then SIGKILL after a grace period."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=_STOP_TIMEOUT)
        # Children of a stopped leader (a pool process) may outlive it for a moment.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if process in self._started:
            self._started.remove(process)

    def check_alive(self, process: subprocess.Popen[bytes], what: str) -> None:
        if process.poll() is not None:
            raise BenchError(f"{what} exited with {process.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> "Processes":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for process in list(reversed(self._started)):
            self.stop(process)
        self._log.close()


def stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """A SIGTERM handler: turned into KeyboardInterrupt so that every `finally` (and
    `Processes`' exit) stops what it started."""
    raise KeyboardInterrupt


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size (VmHWM) in MiB; None once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (e.g. Celery's prefork pool processes)."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children.extend(int(p) for p in (task / "children").read_text().split())
    return children


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll `condition` until it is true; BenchError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not done within {timeout:g} s")
        time.sleep(interval)
