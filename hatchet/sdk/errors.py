"""Exceptions raised by the SDK; API errors carry the server's status, code and message."""

from typing import Any


class HatchetError(Exception):
    """Base class of every SDK error."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        code = f", {self.code}" if self.code else ""
        return f"{self.message} (HTTP {self.status}{code})"


class HatchetConnectionError(HatchetError):
    """The server could not be reached (refused, timed out, DNS)."""


class AuthenticationError(HatchetError):
    """The server refused the token (HTTP 401/403, or websocket close 4401)."""


class NotFoundError(HatchetError):
    """The server answered 404: no such workflow, run or resource in this tenant."""


class InvalidRequestError(HatchetError):
    """The server refused the request as invalid (a 4xx other than 401, 403 and 404)."""


class ServerError(HatchetError):
    """The server failed (5xx)."""


class WorkflowRunFailed(HatchetError):
    """A workflow run ended FAILED or CANCELLED; `errors` maps step names to their errors."""

    def __init__(self, message: str, *, run: dict[str, Any], errors: dict[str, str]) -> None:
        super().__init__(message)
        self.run = run
        self.workflow_run_id: str = str(run.get("id", ""))
        self.run_status: str = str(run.get("status", ""))
        self.errors = errors


class StepOutputNotFound(KeyError):
    """`context.step_output(name)` was asked for a step that is not a parent of this step."""

    def __str__(self) -> str:
        # KeyError's own __str__ would print the message as a quoted repr.
        return str(self.args[0]) if self.args else ""


class NonRetryableError(Exception):
    """Raise it from a step to fail it at once: the step's remaining retries are skipped
    (a refused input, say, that no retry can fix)."""


class NonDeterministicError(NonRetryableError):
    """A durable step made a different wait or spawn than when it first ran: replaying
    it cannot give it back what it waited for (see `@step(durable=True)`)."""


class WaitTimedOut(TimeoutError):
    """A durable step's wait (`wait_for_event(..., timeout=)`) ran out of time."""


class ChildWorkflowFailed(HatchetError):
    """A child run the step waited for ended FAILED or CANCELLED."""

    def __init__(
        self, message: str, *, workflow_run_id: str, workflow: str, run_status: str, error: str
    ) -> None:
        super().__init__(message)
        self.workflow_run_id = workflow_run_id
        self.workflow = workflow
        self.run_status = run_status
        self.error = error
