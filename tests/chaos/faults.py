"""The faults, on a schedule during the load: which, when, and what each did."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.chaos.load import Triggers, tagged
from tests.chaos.stack import ChaosStack
from tests.chaos.worker_app import LONG

logger = logging.getLogger("chaos")

WORKER_KILL = "worker SIGKILL"
SERVER_KILL = "server SIGKILL"
# A node's server with its tick and Celery processes, at once.
NODE_KILL = "node SIGKILL"
REDIS_RESTART = "Redis restart"
DATABASE_TERMINATE = "DB connections terminated"
KINDS = (WORKER_KILL, SERVER_KILL, NODE_KILL, REDIS_RESTART, DATABASE_TERMINATE)
# Before each fault, runs of a step of a few seconds are started, and the fault waits
# (at most HOLD_WAIT s) until the workers hold at least half as many step runs: so it
# finds steps in flight (the mix's steps take milliseconds and are rarely caught).
HOLD_RUNS = 6
HOLD_WAIT = 5.0
# A fault waits this long after the one before was repaired, so that each fault meets
# a system that has recovered from the last (a server restart takes 10-25 s here).
RECOVERY_GAP = 5.0


@dataclass
class Fault:
    kind: str
    target: str
    injected_at: float
    restored_at: float | None = None
    detail: str = ""


@dataclass
class PlannedFault:
    kind: str
    target: int  # a worker slot or a server index; unused for Redis and the database


def fault_cycle(stack: ChaosStack) -> list[PlannedFault]:
    """One of each kind the backend has, every server (or node, where nodes run more than
    a server) killed once per cycle."""
    if stack.backend == "embedded":
        return [PlannedFault(SERVER_KILL, 0), PlannedFault(WORKER_KILL, 0)]
    kill = NODE_KILL if any(stack.node_children) else SERVER_KILL
    cycle = [
        PlannedFault(WORKER_KILL, 0),
        PlannedFault(kill, 0),
        PlannedFault(REDIS_RESTART, 0),
        PlannedFault(DATABASE_TERMINATE, 0),
    ]
    cycle += [PlannedFault(kill, index) for index in range(1, stack.server_count)]
    return cycle


def fault_plan(
    stack: ChaosStack, first: float, interval: float, until: float
) -> list[tuple[float, PlannedFault]]:
    """(seconds after the load starts, fault): cycles repeated from `first`, every
    `interval`, while before `until`; the worker killed moves on each cycle."""
    plan: list[tuple[float, PlannedFault]] = []
    at, cycle_number = first, 0
    while at < until:
        for planned in fault_cycle(stack):
            if at >= until:
                break
            target = planned.target
            if planned.kind == WORKER_KILL:
                target = cycle_number % stack.worker_count
            plan.append((at, PlannedFault(planned.kind, target)))
            at += interval
        cycle_number += 1
    return plan


class FaultInjector:
    """Injects the planned faults in a thread of its own and records each."""

    def __init__(
        self, stack: ChaosStack, triggers: Triggers, plan: list[tuple[float, PlannedFault]]
    ) -> None:
        self.stack = stack
        self.triggers = triggers
        self.plan = plan
        self.faults: list[Fault] = []

    def run(self, started: float, stop: threading.Event) -> None:
        actions: dict[str, Callable[[int], str]] = {
            WORKER_KILL: self.stack.kill_worker,
            SERVER_KILL: self.stack.kill_server,
            NODE_KILL: self.stack.kill_node,
            REDIS_RESTART: lambda _: self.stack.restart_redis(),
            DATABASE_TERMINATE: lambda _: self.stack.terminate_database_connections(),
        }
        repaired = started
        for offset, planned in self.plan:
            due = max(started + offset, repaired + RECOVERY_GAP)
            if stop.wait(max(0.0, due - time.monotonic())) or self.hold_work(stop):
                return
            if planned.kind == WORKER_KILL:
                planned = PlannedFault(WORKER_KILL, self.busiest_worker(planned.target))
            fault = Fault(planned.kind, self._target(planned), time.time())
            self.faults.append(fault)
            logger.info("fault: %s %s", fault.kind, fault.target)
            try:
                fault.detail = actions[planned.kind](planned.target)
            except Exception as exc:
                # The stack could not be made whole again: the run goes on, and says so.
                fault.detail = f"restoring failed: {type(exc).__name__}: {exc}"
                logger.exception("fault %s %s", fault.kind, fault.target)
            else:
                fault.restored_at = time.time()
            repaired = time.monotonic()

    def busiest_worker(self, planned: int) -> int:
        try:
            return self.stack.busiest_worker(planned)
        except RuntimeError:
            logger.exception("cannot tell which worker is busiest; killing the planned one")
            return planned

    def hold_work(self, stop: threading.Event) -> bool:
        """Start the runs the fault should find in flight; True if stopped meanwhile."""
        for index in range(HOLD_RUNS):
            self.triggers.submit(tagged(LONG, "rest", index % self.stack.server_count))
        deadline = time.monotonic() + HOLD_WAIT
        while sum(self.held_step_runs().values()) < HOLD_RUNS // 2:
            if time.monotonic() > deadline:
                logger.info("the workers hold less than %d step runs", HOLD_RUNS // 2)
                break
            if stop.wait(0.1):
                return True
        return False

    def held_step_runs(self) -> dict[str, int]:
        try:
            return self.stack.held_step_runs()
        except RuntimeError:
            logger.exception("cannot read the workers")
            return {}

    def _target(self, planned: PlannedFault) -> str:
        if planned.kind == WORKER_KILL:
            return self.stack.workers[planned.target].child.name
        if planned.kind == SERVER_KILL:
            return self.stack.servers[planned.target].name
        if planned.kind == NODE_KILL:
            return f"node-{planned.target + 1}"
        return "redis" if planned.kind == REDIS_RESTART else "database"
