"""The load: tagged triggers and event pushes spread over the servers, through the SDK
(its client socket) and through REST, and the probes that time recovery.

Every trigger carries a unique tag in its additional metadata (events pass theirs to
the runs they start), so that after a transport failure the harness can tell whether
its run exists. A client re-sends only what is safe: a request refused before it was
sent (nothing reached the server) is sent again at once; after a timeout, a dropped
connection or a 5xx the outcome is unknown, so the run is looked up by its tag once the
server has had time to finish or abandon the request, and only a tag with no run is
sent again.
"""

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from hatchet.sdk import Hatchet
from hatchet.sdk.errors import HatchetConnectionError, HatchetError, ServerError
from tests.chaos.api import Api
from tests.chaos.worker_app import DAG, EVENT, EVENT_KEY, PROBE, RETRY, SLOW, TIMEOUT

TAG = "chaos_tag"
# The mix of the load, by weight. Events start EVENT runs; the cron starts its own.
MIX = {DAG: 30, SLOW: 25, RETRY: 15, TIMEOUT: 10, EVENT: 20}
# Seconds after an ambiguous failure before the run is looked up: the harness's
# clients give up after 10 s, and a request still being served by then has had time
# to commit or roll back.
VERIFY_DELAY = 15.0
# How long a trigger keeps trying before it is given up as not accepted.
TRIGGER_PATIENCE = 120.0
# The SDK's messages for a request that never left the client (client_socket.py).
NOT_SENT_MESSAGES = ("cannot reach Hatchet", "the connection to Hatchet is closed")
# The client socket's handshake was answered with an error: no request went out.
HANDSHAKE_REFUSED = "the client socket was refused"

UNKNOWN_OUTCOME = "unknown outcome"
# Trigger states.
PENDING = "pending"
ACKNOWLEDGED = "acknowledged"
FOUND = "found by its tag"
REFUSED = "refused"
NOT_ACCEPTED = "not accepted"
DROPPED = "dropped"  # a probe its server could not take; the next one follows


class NotSent(Exception):
    """Nothing reached the server: safe to send again."""


class Unknown(Exception):
    """The request may or may not have been applied."""


class Refused(Exception):
    """The server answered 4xx: sending it again would be refused again."""


@dataclass
class Trigger:
    """One tagged request to start a run: of `workflow`, or an event for it."""

    tag: str
    workflow: str
    via: str  # "sdk" or "rest"
    server: int
    n: int
    # A probe stays with its server (it measures that server's recovery).
    pinned: bool = False
    state: str = PENDING
    first_sent_at: float | None = None
    run_id: str | None = None
    sends: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        return self.workflow == EVENT

    @property
    def had_unknown_outcome(self) -> bool:
        return any(problem.startswith(UNKNOWN_OUTCOME) for problem in self.problems)

    def __str__(self) -> str:
        what = f"event {EVENT_KEY}" if self.is_event else self.workflow
        return (
            f"{what} tag={self.tag} via {self.via} to server-{self.server + 1}, "
            f"{self.sends} send(s), {self.state}; run {self.run_id}; problems: {self.problems}"
        )


def tagged(workflow: str, via: str, server: int, n: int = 0, pinned: bool = False) -> Trigger:
    """A trigger with a tag of its own."""
    return Trigger(uuid.uuid4().hex, workflow, via, server, n, pinned)


class Triggers:
    """Sends triggers from a pool of threads and keeps every one for the audit."""

    def __init__(self, api: Api, clients: list[Hatchet], threads: int = 32) -> None:
        self.api = api
        self.clients = clients
        self.all: list[Trigger] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="chaos-trigger")

    def submit(self, trigger: Trigger) -> None:
        with self._lock:
            self.all.append(trigger)
        self._pool.submit(self._deliver, trigger)

    def send_now(self, trigger: Trigger) -> None:
        """Send `trigger` in this thread (its run id is known on return), kept for the
        audit like the others."""
        with self._lock:
            self.all.append(trigger)
        self._deliver(trigger)

    def wait(self) -> None:
        self._pool.shutdown(wait=True)
        for client in self.clients:
            client.close()

    def _deliver(self, trigger: Trigger) -> None:
        deadline = time.monotonic() + TRIGGER_PATIENCE
        while time.monotonic() < deadline:
            trigger.sends += 1
            trigger.first_sent_at = trigger.first_sent_at or time.time()
            try:
                trigger.run_id = self._send(trigger)
            except NotSent as exc:
                trigger.problems.append(f"not sent: {exc}")
                if trigger.pinned:
                    trigger.state = DROPPED
                    return
                trigger.server = (trigger.server + 1) % len(self.clients)
                time.sleep(0.25)
                continue
            except Refused as exc:
                trigger.problems.append(f"refused: {exc}")
                trigger.state = REFUSED
                return
            except Unknown as exc:
                trigger.problems.append(f"{UNKNOWN_OUTCOME}: {exc}")
                time.sleep(VERIFY_DELAY)
                found = self._look_up(trigger.tag)
                if found is None:
                    continue
                trigger.run_id, trigger.state = found, FOUND
                return
            trigger.state = ACKNOWLEDGED
            return
        trigger.state = NOT_ACCEPTED

    def _look_up(self, tag: str) -> str | None:
        runs = self.api.read("/runs", {"metadata": f"{TAG}:{tag}"}, patience=TRIGGER_PATIENCE)
        results = runs["results"]
        return str(results[0]["id"]) if results else None

    def _send(self, trigger: Trigger) -> str | None:
        """The started run's id (None for an event: its run is found by tag)."""
        metadata = {TAG: trigger.tag}
        payload = {"tag": trigger.tag, "n": trigger.n}
        if trigger.via == "sdk":
            client = self.clients[trigger.server]
            return self._through_sdk(
                trigger,
                lambda: (
                    client.event.push(EVENT_KEY, payload, additional_metadata=metadata)
                    if trigger.is_event
                    else client.admin.run_workflow(
                        trigger.workflow, payload, additional_metadata=metadata
                    ).workflow_run_id
                ),
            )
        body = {"input": payload, "additional_metadata": metadata}
        if trigger.is_event:
            path = "/events"
            body = {"key": EVENT_KEY, "payload": payload, "additional_metadata": metadata}
        else:
            path = f"/workflows/{trigger.workflow}/runs"
        try:
            response = self.api.request(trigger.server, "POST", path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NotSent(f"{type(exc).__name__} {exc}") from exc
        except httpx.TransportError as exc:
            raise Unknown(f"{type(exc).__name__} {exc}") from exc
        if response.status_code >= 500:
            raise Unknown(f"HTTP {response.status_code} {response.text[:200]}")
        if response.status_code >= 400:
            raise Refused(f"HTTP {response.status_code} {response.text[:200]}")
        return None if trigger.is_event else str(response.json()["id"])

    def _through_sdk(self, trigger: Trigger, call: Callable[[], Any]) -> str | None:
        try:
            answer = call()
        except HatchetConnectionError as exc:
            if str(exc).startswith(NOT_SENT_MESSAGES):
                raise NotSent(str(exc)) from exc
            raise Unknown(str(exc)) from exc
        except ServerError as exc:
            self.api.note_server_error(
                trigger.server, f"SDK {trigger.workflow}", exc.status or 500, str(exc)
            )
            if str(exc).startswith(HANDSHAKE_REFUSED):
                raise NotSent(str(exc)) from exc
            raise Unknown(str(exc)) from exc
        except HatchetError as exc:
            raise Refused(str(exc)) from exc
        return None if trigger.is_event else str(answer)


def run_load(triggers: Triggers, count: int, duration: float, servers: int, seed: int) -> None:
    """`count` triggers of the mix, evenly over `duration` seconds, spread over the
    servers and over the SDK and REST."""
    rng = random.Random(seed)
    workflows, weights = list(MIX), list(MIX.values())
    started = time.monotonic()
    for index in range(count):
        pause = started + index * duration / count - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        triggers.submit(
            tagged(
                rng.choices(workflows, weights)[0],
                rng.choice(("sdk", "rest")),
                index % servers,
                n=rng.randrange(1000),
            )
        )


def run_probes(triggers: Triggers, servers: int, interval: float, stop: threading.Event) -> None:
    """A probe run through each server every `interval` seconds until `stop`."""
    while not stop.wait(interval):
        for server in range(servers):
            triggers.submit(tagged(PROBE, "rest", server, pinned=True))
