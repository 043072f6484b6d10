"""Where a step's milliseconds go: CPU time by component, read from /proc.

Each component (the server processes, the workers, PostgreSQL, Redis, the client) is a
set of processes; its CPU time is the user + system time of each, plus the time of the
children each has reaped (`cutime` + `cstime`), so that a PostgreSQL backend that exited
during a phase is still counted, in the postmaster's share. Differenced around a phase
and divided by the steps done in it, it says how many milliseconds of CPU each part of
the system spent per step. The machine's other processes are not counted: the figures
assume a quiet machine, as the benchmark does.
"""

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Components = dict[str, Callable[[], Iterable[int]]]


def cpu_seconds(pid: int) -> float:
    """User + system seconds of a process and of the children it has reaped; 0 once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name may hold spaces: the fields that follow it come after its ")".
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    """Processes whose command name is `name` (e.g. every PostgreSQL process)."""
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@dataclass(frozen=True)
class CpuSnapshot:
    seconds: dict[str, float]


def cpu_snapshot(components: Components) -> CpuSnapshot:
    return CpuSnapshot(
        {name: sum(cpu_seconds(pid) for pid in set(pids())) for name, pids in components.items()}
    )


def cpu_ms_per_step(before: CpuSnapshot, after: CpuSnapshot, steps: int) -> dict[str, float]:
    """Milliseconds of CPU each component spent per step between two snapshots, and
    their sum (`total`)."""
    if steps <= 0:
        return {}
    spent = {
        name: round((after.seconds[name] - before.seconds.get(name, 0.0)) * 1000 / steps, 3)
        for name in after.seconds
    }
    return {**spent, "total": round(sum(spent.values()), 3)}
