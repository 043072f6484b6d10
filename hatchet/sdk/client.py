"""The client: `Hatchet`, its `event` and `admin` parts, and workflow run handles; REST,
and the client socket for triggers and events."""

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from hatchet.sdk.client_socket import ClientSocket, SocketUnavailable
from hatchet.sdk.errors import (
    AuthenticationError,
    HatchetConnectionError,
    HatchetError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    WorkflowRunFailed,
)
from hatchet.sdk.evaluator import evaluator as _evaluator
from hatchet.sdk.version import SDK_VERSION
from hatchet.sdk.worker import LabelValue, Worker
from hatchet.sdk.workflow import check_priority
from hatchet.sdk.workflow import on_failure_step as _on_failure_step
from hatchet.sdk.workflow import step as _step
from hatchet.sdk.workflow import workflow as _workflow

logger = logging.getLogger("hatchet.sdk")

DEFAULT_SERVER_URL = "http://127.0.0.1:8080"

_FIRST_POLL_DELAY = 0.02
_MAX_POLL_DELAY = 0.5
_FAILED_RUN_STATUSES = ("FAILED", "CANCELLED")
_FAILED_STEP_STATUSES = ("FAILED", "TIMED_OUT", "CANCELLED")


class Hatchet:
    """Entry point of the SDK: decorators, the REST client and workers.

    `server_url` defaults to HATCHET_SERVER_URL (else http://127.0.0.1:8080) and `token`
    to HATCHET_TOKEN.
    """

    workflow = staticmethod(_workflow)
    step = staticmethod(_step)
    on_failure_step = staticmethod(_on_failure_step)
    evaluator = staticmethod(_evaluator)

    def __init__(
        self,
        server_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        self.server_url = (
            server_url or os.environ.get("HATCHET_SERVER_URL") or DEFAULT_SERVER_URL
        ).rstrip("/")
        self.token = token if token is not None else os.environ.get("HATCHET_TOKEN") or None
        headers = {"User-Agent": f"hatchet-sdk-python/{SDK_VERSION}", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self._http = httpx.Client(
            base_url=self.server_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
        )
        self._socket = ClientSocket(
            self.server_url,
            self.token,
            timeout,
            lambda status, body: api_error(
                status, body, "the client socket was refused", has_token=bool(self.token)
            ),
        )
        self.event = EventClient(self)
        self.admin = AdminClient(self)
        self.cron = CronClient(self)
        self.rate_limits = RateLimitClient(self)

    def worker(
        self,
        name: str,
        max_runs: int = 10,
        *,
        labels: dict[str, LabelValue] | None = None,
        project_root: str | os.PathLike[str] | None = None,
        grace: float | None = None,
    ) -> Worker:
        """A worker that runs up to `max_runs` steps at once (its slots), with `labels`
        that steps may require or prefer ({"gpu": True, "region": "eu"}; change them
        while it runs with `worker.upsert_labels`)."""
        return Worker(
            self,
            name,
            max_runs=max_runs,
            labels=labels,
            project_root=project_root,
            grace=grace,
        )

    def close(self) -> None:
        self._socket.close()
        self._http.close()

    def __enter__(self) -> "Hatchet":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Hatchet(server_url={self.server_url!r})"

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        """Call the REST API and return the decoded JSON body; raise a HatchetError on failure."""
        try:
            response = self._http.request(method, path, json=payload)
        except httpx.TransportError as exc:
            raise HatchetConnectionError(
                f"cannot reach Hatchet at {self.server_url}: {exc or type(exc).__name__}"
            ) from exc
        if not response.is_success:
            raise self._api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise HatchetError(
                f"{method} {path} answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from exc

    def _api_error(self, response: httpx.Response) -> HatchetError:
        try:
            body = response.json()
        except ValueError:
            body = None
        fallback = f"{response.request.method} {response.request.url.path} failed"
        return api_error(response.status_code, body, fallback, has_token=bool(self.token))

    def command(self, request: dict[str, Any], rest_method: str, rest_path: str) -> Any:
        """Send `request` over the client socket (one lasting connection), or as the
        REST call it stands for to a server that has no such socket."""
        if self._socket.available:
            with contextlib.suppress(SocketUnavailable):
                return self._socket.call(request)
        body = {k: v for k, v in request.items() if k not in ("type", "workflow")}
        return self.request(rest_method, rest_path, body)


def api_error(status: int, body: Any, fallback: str, *, has_token: bool) -> HatchetError:
    """The SDK's error for an API answer with a 4xx/5xx `status` and its JSON `body`."""
    code: str | None = None
    details: Any = None
    message = fallback
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = error.get("code")
        message = str(error.get("message") or message)
        details = error.get("details")
    elif isinstance(body, dict) and "detail" in body:
        message = str(body["detail"])
    error_class: type[HatchetError]
    if status in (401, 403):
        error_class = AuthenticationError
        if not has_token:
            message += " (no token: set HATCHET_TOKEN or pass token=)"
    elif status == 404:
        error_class = NotFoundError
    elif status >= 500:
        error_class = ServerError
    else:
        error_class = InvalidRequestError
    return error_class(message, status=status, code=code, details=details)


class EventClient:
    """Pushes events, which trigger the workflows listening for their key."""

    def __init__(self, client: Hatchet) -> None:
        self._client = client

    def push(
        self,
        key: str,
        payload: Any = None,
        additional_metadata: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Push an event; with an `idempotency_key`, a retry of this call (the same key
        within the server's window) gets the event the first one stored, and starts
        no run again."""
        request: dict[str, Any] = {
            "type": "event.push",
            "key": key,
            "payload": payload if payload is not None else {},
            "additional_metadata": additional_metadata or {},
        }
        if idempotency_key is not None:
            request["idempotency_key"] = idempotency_key
        event: dict[str, Any] = self._client.command(request, "POST", "/api/v1/events")
        return event

    def push_many(self, events: list[dict[str, Any]]) -> Any:
        """Push several events in one request; each is {"key", "payload", "additional_metadata"}."""
        batch = []
        for event in events:
            if not isinstance(event, dict) or "key" not in event:
                raise ValueError(f"each event needs a 'key', got {event!r}")
            batch.append(
                {
                    "key": event["key"],
                    "payload": event.get("payload") or {},
                    "additional_metadata": event.get("additional_metadata") or {},
                }
            )
        return self._client.command(
            {"type": "event.push", "events": batch}, "POST", "/api/v1/events"
        )


class CronClient:
    """Crons created at run time (declared ones come from `on_crons`): each starts a run
    of its workflow whenever its expression is due."""

    def __init__(self, client: Hatchet) -> None:
        self._client = client

    def create(
        self,
        workflow: str,
        expression: str,
        input: Any = None,
        *,
        name: str = "",
        timezone: str = "UTC",
        additional_metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A cron of five fields (six with leading seconds) or an alias like '@daily',
        evaluated in `timezone` (an IANA name)."""
        cron: dict[str, Any] = self._client.request(
            "POST",
            "/api/v1/crons",
            {
                "workflow": workflow,
                "expression": expression,
                "name": name,
                "timezone": timezone,
                "input": input if input is not None else {},
                "additional_metadata": additional_metadata or {},
            },
        )
        return cron

    def list(self, workflow: str | None = None) -> list[dict[str, Any]]:
        """Every cron of the tenant (or of one workflow), with its next fire time."""
        query = f"&workflow={quote(workflow, safe='')}" if workflow else ""
        return every_row(self._client, f"/api/v1/crons?limit=500{query}")

    def get(self, cron_id: str) -> dict[str, Any]:
        """One cron with its recent runs."""
        cron: dict[str, Any] = self._client.request("GET", self._path(cron_id))
        return cron

    def pause(self, cron_id: str) -> dict[str, Any]:
        cron: dict[str, Any] = self._client.request("POST", self._path(cron_id) + "/pause")
        return cron

    def resume(self, cron_id: str) -> dict[str, Any]:
        """Fire again from the next due time; what was missed while paused is skipped."""
        cron: dict[str, Any] = self._client.request("POST", self._path(cron_id) + "/resume")
        return cron

    def delete(self, cron_id: str) -> None:
        self._client.request("DELETE", self._path(cron_id))

    @staticmethod
    def _path(cron_id: str) -> str:
        return f"/api/v1/crons/{quote(str(cron_id), safe='')}"


class RateLimitClient:
    """Rate limits that steps take units of (`@step(rate_limits=[RateLimit(key=...)])`):
    at most `limit` units in any `period` ("second", "minute", "hour" or "day")."""

    def __init__(self, client: Hatchet) -> None:
        self._client = client

    def put(self, key: str, limit: int, period: str = "minute") -> dict[str, Any]:
        """Create the limit, or set its limit and period if it exists."""
        rate_limit: dict[str, Any] = self._client.request(
            "POST", "/api/v1/rate-limits", {"key": key, "limit": limit, "period": period}
        )
        return rate_limit

    def list(self) -> list[dict[str, Any]]:
        """Every limit of the tenant, with the units it took in its current window."""
        return every_row(self._client, "/api/v1/rate-limits?limit=500")

    def get(self, key: str) -> dict[str, Any]:
        page = self._client.request("GET", f"/api/v1/rate-limits?key={quote(key, safe='')}")
        if not page["results"]:
            raise NotFoundError(f"No rate limit {key!r}.", status=404, code="not_found")
        rate_limit: dict[str, Any] = page["results"][0]
        return rate_limit

    def delete(self, key: str) -> None:
        self._client.request("DELETE", f"/api/v1/rate-limits/{self.get(key)['id']}")


def every_row(client: Hatchet, path: str) -> list[dict[str, Any]]:
    """The rows of a list resource, page after page from `path`."""
    rows: list[dict[str, Any]] = []
    next_path: str | None = path
    while next_path:
        page = client.request("GET", next_path)
        rows.extend(page["results"])
        next_path = page.get("next")
    return rows


class AdminClient:
    """Registers workflows, triggers and schedules runs, and reads them back."""

    def __init__(self, client: Hatchet) -> None:
        self._client = client

    def register_workflow(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Register a workflow definition (protocol.md); answers its version and checksum."""
        registered: dict[str, Any] = self._client.request("POST", "/api/v1/workflows", definition)
        return registered

    def run_workflow(
        self,
        workflow_name: str,
        input: Any = None,
        *,
        overrides: dict[str, dict[str, Any]] | None = None,
        additional_metadata: dict[str, Any] | None = None,
        priority: int | None = None,
        idempotency_key: str | None = None,
    ) -> "WorkflowRun":
        """Trigger a run; `overrides` maps step names to {playground name: value};
        `priority` (1-4, 4 the most urgent) overrides the workflow's. With an
        `idempotency_key`, a retry of this call (the same key within the server's window,
        24 h by default) gets the run the first one started, not a second run."""
        request: dict[str, Any] = {
            "type": "run.trigger",
            "workflow": workflow_name,
            "input": input if input is not None else {},
            "additional_metadata": additional_metadata or {},
            "overrides": overrides or {},
        }
        if priority is not None:
            request["priority"] = check_priority(priority)
        if idempotency_key is not None:
            request["idempotency_key"] = idempotency_key
        detail = self._client.command(
            request,
            "POST",
            f"/api/v1/workflows/{quote(workflow_name, safe='')}/runs",
        )
        return WorkflowRun(self._client, str(detail["id"]))

    def run_workflows(
        self, workflow_name: str, runs: Iterable[dict[str, Any]]
    ) -> list["WorkflowRun"]:
        """Trigger many runs in one request, all or none (at most 1,000); each item may
        have `input`, `additional_metadata`, `overrides`, `priority` and
        `idempotency_key`, as run_workflow takes."""
        body = self._client.command(
            {"type": "runs.trigger", "workflow": workflow_name, "runs": list(runs)},
            "POST",
            f"/api/v1/workflows/{quote(workflow_name, safe='')}/runs/bulk",
        )
        return [WorkflowRun(self._client, str(run["id"])) for run in body["runs"]]

    def schedule_workflow(
        self, workflow_name: str, at: datetime, input: Any = None
    ) -> dict[str, Any]:
        """Run the workflow once at `at` (a naive datetime is taken as local time)."""
        if not isinstance(at, datetime):
            raise TypeError(f"at must be a datetime, not {type(at).__name__}")
        scheduled: dict[str, Any] = self._client.request(
            "POST",
            "/api/v1/schedules",
            {
                "workflow": workflow_name,
                "trigger_at": at.astimezone(UTC).isoformat(),
                "input": input if input is not None else {},
            },
        )
        return scheduled

    def get_run(self, workflow_run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self._client.request(
            "GET", f"/api/v1/runs/{quote(str(workflow_run_id), safe='')}"
        )
        return run

    def pause_workflow(self, workflow_name: str) -> dict[str, Any]:
        """New runs of the workflow wait (crons, schedules and events still start them)
        until resume_workflow; runs already going go on. Answers the workflow."""
        return self._set_paused(workflow_name, "pause")

    def resume_workflow(self, workflow_name: str) -> dict[str, Any]:
        """The runs that waited go on, in the order they came."""
        return self._set_paused(workflow_name, "resume")

    def _set_paused(self, workflow_name: str, verb: str) -> dict[str, Any]:
        workflow: dict[str, Any] = self._client.request(
            "POST", f"/api/v1/workflows/{quote(workflow_name, safe='')}/{verb}"
        )
        return workflow


class WorkflowRun:
    """A handle on a triggered workflow run."""

    def __init__(self, client: Hatchet, workflow_run_id: str) -> None:
        self._client = client
        self.workflow_run_id = workflow_run_id

    def __repr__(self) -> str:
        return f"WorkflowRun({self.workflow_run_id!r})"

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the run to finish and return {step name: output}.

        Raises WorkflowRunFailed if it ends FAILED or CANCELLED, TimeoutError if it has not
        finished after `timeout` seconds. Connection and server errors while waiting are
        retried. Blocks the thread: from async code, use `await run.aresult()`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = _FIRST_POLL_DELAY
        failures = 0
        while True:
            try:
                run = self._client.admin.get_run(self.workflow_run_id)
            except (HatchetConnectionError, ServerError) as exc:
                log = logger.warning if failures == 0 else logger.debug
                log("waiting for run %s: %s; retrying", self.workflow_run_id, exc)
                failures += 1
            else:
                failures = 0
                status = run.get("status")
                if status == "SUCCEEDED":
                    return {
                        _step_name(step_run): step_run.get("output") for step_run in _steps(run)
                    }
                if status in _FAILED_RUN_STATUSES:
                    raise _run_failed(run)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"workflow run {self.workflow_run_id} has not finished after {timeout} s"
                    )
                delay = min(delay, remaining)
            time.sleep(delay)
            delay = min(delay * 2, _MAX_POLL_DELAY)

    async def aresult(self, timeout: float | None = None) -> dict[str, Any]:
        """`result()` for async code: waits in a thread so the event loop keeps running."""
        return await asyncio.to_thread(self.result, timeout)


def _steps(run: dict[str, Any]) -> list[dict[str, Any]]:
    return list(run.get("step_runs") or [])


def _step_name(step_run: dict[str, Any]) -> str:
    step = step_run.get("step")
    # Tolerate a nested step object as well as a plain name.
    if isinstance(step, dict):
        return str(step.get("name"))
    return str(step)


def _run_failed(run: dict[str, Any]) -> WorkflowRunFailed:
    errors = {
        _step_name(step_run): str(step_run.get("error") or step_run.get("status"))
        for step_run in _steps(run)
        if step_run.get("status") in _FAILED_STEP_STATUSES
    }
    status = run.get("status")
    what = "was cancelled" if status == "CANCELLED" else "failed"
    message = f"workflow run {run.get('id')} of {run.get('workflow')} {what}"
    if errors:
        message += ": " + "; ".join(f"{name}: {error}" for name, error in errors.items())
    elif run.get("error"):
        message += f": {run['error']}"
    return WorkflowRunFailed(message, run=run, errors=errors)
