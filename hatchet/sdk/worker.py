"""The worker: registers its workflows, then runs their steps for the server until stopped.

`Worker` holds the lifecycle (start, signals, drain); `connection.WorkerConnection` the
websocket (docs/protocol.md) and `runner.StepRunner` the steps. One asyncio loop in the
thread that calls `start()`; async steps run as tasks on it and sync steps in daemon
threads, at most `max_runs` at once.
"""

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hatchet.sdk.connection import WorkerConnection, retry_delay
from hatchet.sdk.errors import HatchetConnectionError, HatchetError, ServerError
from hatchet.sdk.evaluator import EVALUATE_STEP, EvaluatorSpec, evaluate_step, evaluator_spec_of
from hatchet.sdk.runner import Message, StepFunction, StepRunner
from hatchet.sdk.workflow import WorkflowSpec, workflow_spec_of

if TYPE_CHECKING:
    from hatchet.sdk.client import Hatchet

logger = logging.getLogger("hatchet.sdk")

DEFAULT_GRACE_SECONDS = 20.0
_OUTBOX_DRAIN_TIMEOUT = 5.0
_POLL_INTERVAL = 0.02


LabelValue = str | int | float | bool
_MAX_LABELS = 20
_MAX_LABEL_LENGTH = 100


def checked_labels(labels: dict[str, LabelValue]) -> dict[str, LabelValue]:
    """The server's rule for worker labels (workflows/engine/affinity.py)."""
    if len(labels) > _MAX_LABELS:
        raise ValueError(f"a worker has at most {_MAX_LABELS} labels")
    for name, value in labels.items():
        if not isinstance(name, str) or not 0 < len(name) <= _MAX_LABEL_LENGTH:
            raise TypeError(f"label names are strings of 1 to {_MAX_LABEL_LENGTH} characters")
        text_too_long = isinstance(value, str) and len(value) > _MAX_LABEL_LENGTH
        if not isinstance(value, str | int | float | bool) or text_too_long:
            raise TypeError(f"label {name!r}: a value is text, a number, true or false")
    return dict(labels)


class Worker:
    """Runs the steps of its registered workflows for the server; see `start()`."""

    def __init__(
        self,
        client: "Hatchet",
        name: str,
        *,
        max_runs: int = 10,
        labels: dict[str, LabelValue] | None = None,
        project_root: str | os.PathLike[str] | None = None,
        grace: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a worker needs a non-empty name")
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
            raise ValueError(f"max_runs must be an integer >= 1, not {max_runs!r}")
        labels = checked_labels(labels or {})
        if grace is None:
            grace = float(os.environ.get("HATCHET_WORKER_GRACE") or DEFAULT_GRACE_SECONDS)
        if grace < 0:
            raise ValueError(f"grace must not be negative, got {grace!r}")
        self.name = name
        self.max_runs = max_runs
        self.labels = labels
        self.grace = grace
        self._client = client
        self._project_root_setting = project_root
        self._workflows: list[WorkflowSpec] = []
        self._evaluators: list[EvaluatorSpec] = []
        self._actions: dict[str, StepFunction] = {}
        # The runner shares the actions that register_workflow fills; its steps report
        # through the connection, which hands it the server's messages.
        self._steps = StepRunner(
            name,
            max_runs,
            self._actions,
            report=self._report,
            ask=self._ask,
            beat_soon=self._beat_soon,
        )
        self._connection = WorkerConnection(client, name=name, labels=labels, steps=self._steps)
        self._stop_requested = threading.Event()
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    @property
    def worker_id(self) -> str | None:
        """The id the server registered this worker under; None until it has."""
        return self._connection.worker_id

    def upsert_labels(self, labels: dict[str, LabelValue]) -> None:
        """Set these labels (others keep theirs) while the worker runs: steps that want
        them may come to it from now on. Safe from any thread, a step's included."""
        self.labels.update(checked_labels({**self.labels, **labels}))
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(self._connection.send_labels())
            )

    def register_workflow(self, workflow: object) -> None:
        """Offer the steps of a `@workflow` instance (a class is instantiated with no arguments)."""
        if self._started:
            raise RuntimeError("register workflows before start()")
        instance = workflow() if isinstance(workflow, type) else workflow
        spec = workflow_spec_of(instance)
        if spec.name in self._registered_names():
            raise ValueError(f"workflow {spec.name!r} is already registered on this worker")
        for step_spec in spec.steps:
            self._actions[spec.action(step_spec.name)] = getattr(instance, step_spec.name)
        self._workflows.append(spec)

    def register_evaluator(self, function: Callable[..., Any]) -> None:
        """Offer an `@hatchet.evaluator` function: its one-step workflow is registered
        after the worker's workflows (the evaluated workflow must be registered first,
        by this worker or another) and its step runs here like any other."""
        if self._started:
            raise RuntimeError("register evaluators before start()")
        spec = evaluator_spec_of(function)
        workflow = spec.workflow_spec()
        if workflow.name in self._registered_names():
            raise ValueError(f"evaluator {workflow.name!r} is already registered on this worker")
        self._actions[workflow.action(EVALUATE_STEP)] = evaluate_step(spec, function)
        self._evaluators.append(spec)

    def _registered_names(self) -> set[str]:
        return {spec.name for spec in self._workflows} | {
            spec.workflow_name for spec in self._evaluators
        }

    def start(self) -> None:
        """Register the workflows, connect and run steps until stopped; blocks.

        SIGINT or SIGTERM (or `stop()`) drains: no new work, running steps get `grace`
        seconds, the rest is handed back. A second signal exits the process at once.
        """
        if not self._workflows and not self._evaluators:
            raise RuntimeError("register at least one workflow or evaluator before start()")
        if self._started:
            raise RuntimeError("a worker can be started only once")
        self._started = True
        self._steps.project_root = project_root_path(self._project_root_setting)
        asyncio.run(self._main())

    def stop(self) -> None:
        """Ask a running worker to drain and return from `start()`; safe from any thread."""
        self._stop_requested.set()
        loop, stop_event = self._loop, self._stop_event
        if loop is not None and stop_event is not None:
            # RuntimeError: the loop has already closed, so the worker is stopped.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop_event.set)

    async def _main(self) -> None:
        self._stop_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._steps.run_on(self._loop)
        if self._stop_requested.is_set():
            self._stop_event.set()
        signals = self._install_signal_handlers()
        logger.info(
            "worker %s starting: %d slots, actions %s",
            self.name,
            self.max_runs,
            ", ".join(sorted(self._actions)),
        )
        try:
            if not await self._register_workflows():
                return
            connection = asyncio.create_task(self._connection.run())
            stop_wait = asyncio.create_task(self._stop_event.wait())
            await asyncio.wait({connection, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if connection.done():
                stop_wait.cancel()
                connection.result()
                return
            await self._drain(connection)
        finally:
            for signum in signals:
                self._loop.remove_signal_handler(signum)
        logger.info("worker %s stopped", self.name)

    def _install_signal_handlers(self) -> list[int]:
        installed: list[int] = []
        if self._loop is None:
            raise RuntimeError("the worker is not running")
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(signum, self._on_signal, signum)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread, or a platform without loop signal handlers
            installed.append(signum)
        return installed

    def _on_signal(self, signum: int) -> None:
        if self._stop_event is None:
            raise RuntimeError("the worker is not running")
        name = signal.Signals(signum).name
        if self._stop_event.is_set():
            logger.warning("%s again: exiting now without draining", name)
            os._exit(128 + signum)
        logger.info("%s: draining (up to %g s); repeat to exit now", name, self.grace)
        self._stop_requested.set()
        self._stop_event.set()

    async def _register_workflows(self) -> bool:
        """Register every workflow over REST; False if stopped while the server was away."""
        failures = 0
        definitions = [spec.to_definition() for spec in self._workflows] + [
            spec.to_definition(self.name) for spec in self._evaluators
        ]
        for definition in definitions:
            name = definition["name"]
            while True:
                try:
                    answer = await asyncio.to_thread(
                        self._client.admin.register_workflow, definition
                    )
                    break
                except (HatchetConnectionError, ServerError) as exc:
                    log = logger.warning if failures == 0 else logger.debug
                    log("cannot register workflow %s yet: %s; retrying", name, exc)
                except HatchetError as exc:
                    # A refused definition (or token) will be refused again: stop here.
                    raise type(exc)(
                        f"cannot register workflow {name!r}: {exc.message}",
                        status=exc.status,
                        code=exc.code,
                        details=exc.details,
                    ) from exc
                if await self._sleep_unless_stopped(retry_delay(failures)):
                    return False
                failures += 1
            logger.info(
                "registered workflow %s (version %s)",
                name,
                answer.get("version") if isinstance(answer, dict) else "?",
            )
        return True

    async def _sleep_unless_stopped(self, seconds: float) -> bool:
        """Sleep; True if a stop was requested meanwhile."""
        if self._stop_event is None:
            raise RuntimeError("the worker is not running")
        try:
            await asyncio.wait_for(self._stop_event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _report(self, message: Message) -> None:
        self._connection.enqueue(message)

    def _ask(self, message: Message) -> "asyncio.Future[Message]":
        return self._connection.request(message)

    def _beat_soon(self) -> None:
        self._connection.beat_soon()

    async def _drain(self, connection: "asyncio.Task[None]") -> None:
        """protocol.md lifecycle step 6."""
        steps, outbox = self._steps, self._connection.outbox
        steps.draining = True
        logger.info("worker %s draining: %d steps running", self.name, steps.slots_in_use())
        await self._connection.announce_draining()
        await _wait_until(lambda: steps.slots_in_use() == steps.lingering(), self.grace)
        steps.hand_back_running()
        await _wait_until(lambda: len(outbox) == 0, _OUTBOX_DRAIN_TIMEOUT)
        if outbox:
            logger.warning("stopping with %d unacknowledged messages", len(outbox))
        await self._connection.close()
        connection.cancel()
        await asyncio.gather(connection, return_exceptions=True)


def project_root_path(setting: str | os.PathLike[str] | None) -> Path:
    """Where call sites are relative to: the argument, else HATCHET_PROJECT_ROOT, else cwd."""
    return Path(setting or os.environ.get("HATCHET_PROJECT_ROOT") or os.getcwd()).resolve()


async def _wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(_POLL_INTERVAL)
