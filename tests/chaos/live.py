"""Dashboards on any node see live updates from steps running on any other: a watcher
starts a run of the long step through one server and follows it over the run page's
websocket on the next server (the step runs on whichever worker claims it, connected
to any server), as a person with the run page open would."""

import json
import threading
import time
from dataclasses import dataclass

import websockets
from websockets.sync.client import connect

from tests.chaos.load import Triggers, tagged
from tests.chaos.stack import ChaosStack
from tests.chaos.worker_app import LONG, LONG_STEP_SECONDS

# The update arrived.
SEEN = "seen"
# The socket stayed open, the run finished, and no update said so: a broken invariant
# unless a fault overlapped the watch (a restarted Redis forgets the socket's group).
MISSED = "missed"
# The socket could not open or was closed (its server was killed): the page reconnects.
INTERRUPTED = "interrupted"
# The run had ended before the snapshot, or had not when the watch gave up (a fault held
# it up): nothing to judge.
UNJUDGED = "unjudged"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
# How long a watch waits for the end of a run of the long step.
PATIENCE = LONG_STEP_SECONDS + 20.0


@dataclass
class LiveWatch:
    run_id: str
    via: int
    watched_on: int
    started_at: float
    ended_at: float
    outcome: str
    # From the socket's snapshot to the update of the run's end.
    seconds: float | None = None
    detail: str = ""


def watch_live_updates(
    stack: ChaosStack,
    triggers: Triggers,
    interval: float,
    stop: threading.Event,
    watches: list[LiveWatch],
) -> None:
    """One watch after another, `interval` seconds apart, until `stop`; each starts its
    run through server i and watches on server i + 1."""
    index = 0
    while not stop.wait(interval):
        via, watched_on = index % stack.server_count, (index + 1) % stack.server_count
        index += 1
        trigger = tagged(LONG, "rest", via, pinned=True)
        triggers.send_now(trigger)
        if trigger.run_id is not None:  # the audit judges a trigger that started nothing
            watches.append(watch_run(stack, trigger.run_id, via, watched_on))


def watch_run(stack: ChaosStack, run_id: str, via: int, watched_on: int) -> LiveWatch:
    started = time.time()
    url = stack.server_urls[watched_on].replace("http://", "ws://") + f"/ws/runs/{run_id}"

    def ended(outcome: str, seconds: float | None = None, detail: str = "") -> LiveWatch:
        return LiveWatch(run_id, via, watched_on, started, time.time(), outcome, seconds, detail)

    try:
        with connect(
            url, additional_headers={"Authorization": f"Bearer {stack.token}"}, open_timeout=5
        ) as socket:
            snapshot = json.loads(socket.recv(timeout=10))
            if snapshot.get("status") in TERMINAL:
                return ended(UNJUDGED, detail="the run ended before the snapshot")
            subscribed = time.monotonic()
            deadline = subscribed + PATIENCE
            while (left := deadline - time.monotonic()) > 0:
                message = json.loads(socket.recv(timeout=left))
                # The run read again (workflows/live.py) says it as well as an update.
                said_by = message.get("type") in ("run.status", "run.snapshot")
                if said_by and message.get("status") in TERMINAL:
                    return ended(SEEN, time.monotonic() - subscribed)
    except TimeoutError:
        pass
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        return ended(INTERRUPTED, detail=f"{type(exc).__name__}: {exc}")
    status = stack.api.read(f"/runs/{run_id}")["status"]
    if status in TERMINAL:
        return ended(MISSED, detail=f"the run is {status}; no update said so in {PATIENCE:g} s")
    return ended(UNJUDGED, detail=f"the run is still {status} after {PATIENCE:g} s")
