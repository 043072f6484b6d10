"""The PyGithub client of a connection, and what GitHub's failures mean: each one
classified as transient (worth another attempt, after how long) or not, with a
message that says what was being done."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import requests
from django.conf import settings

from playground.github.connections import server_token_refusal, token_of
from playground.models import GitHubConnection

if TYPE_CHECKING:
    from github import Github, GithubException


class GitHubError(Exception):
    """GitHub failed a request; `transient` ones are worth another attempt, after
    `retry_after` seconds when GitHub said how long (a rate limit)."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


def client_for(connection: GitHubConnection) -> "Github":
    from github import Auth, Github

    token = token_of(connection)
    if not token:
        # Checked on every use: the operator may have narrowed the repositories the
        # server's token serves since the connection was saved.
        raise GitHubError(server_token_refusal(connection.repository), transient=False)
    # Retries are the task's, where they show; PyGithub's own would wait unseen.
    return Github(
        base_url=settings.GITHUB_API_URL,
        auth=Auth.Token(token),
        retry=None,
        timeout=30,
        seconds_between_requests=None,
        seconds_between_writes=settings.HATCHET_GITHUB_WRITE_INTERVAL or None,
    )


def said_by(exception: "GithubException") -> str:
    data = exception.data if isinstance(exception.data, dict) else {}
    parts = [str(data.get("message") or "")]
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    return ": ".join(part for part in parts if part)


def rate_limit_wait(headers: dict[str, str], now: float) -> float | None:
    """Seconds until GitHub takes requests again, if it said so."""
    if headers.get("retry-after", "").isdigit():
        return float(headers["retry-after"])
    reset = headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return max(float(reset) - now, 0.0) + 1.0
    return None


def classified(exception: "GithubException", doing: str, now: float | None = None) -> GitHubError:
    status = exception.status
    headers = {str(k).lower(): str(v) for k, v in (exception.headers or {}).items()}
    said = said_by(exception)
    answer = f"{status} {said}".strip()
    is_rate_limit = status == 429 or (
        status == 403
        and (
            headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in headers
            or "rate limit" in said.lower()
        )
    )
    if is_rate_limit:
        wait = rate_limit_wait(headers, time.time() if now is None else now)
        when = "" if wait is None else f"; it resets in {wait:.0f} s"
        return GitHubError(
            f"GitHub's rate limit was reached while {doing}{when}",
            transient=True,
            retry_after=wait,
        )
    if status >= 500:
        return GitHubError(f"GitHub failed ({answer}) while {doing}", transient=True)
    if status == 401:
        return GitHubError(
            f"GitHub refused the token ({answer}) while {doing}: store a valid token on "
            "the connection or set GITHUB_TOKEN",
            transient=False,
        )
    if status == 403:
        return GitHubError(
            f"GitHub denied access ({answer}) while {doing}: the token needs write access "
            "to the repository's contents and pull requests",
            transient=False,
        )
    if status == 404:
        return GitHubError(
            f"GitHub found nothing (404) while {doing}: check the repository, the branch, "
            "the path mapping, and that the token can see the repository",
            transient=False,
        )
    if status == 422:
        return GitHubError(f"GitHub rejected the request ({answer}) while {doing}", transient=False)
    return GitHubError(f"GitHub answered {answer} while {doing}", transient=False)


@contextmanager
def doing(what: str) -> Iterator[None]:
    """Say what was being done when GitHub fails."""
    from github import GithubException

    try:
        yield
    except GithubException as exception:
        raise classified(exception, what) from None
    except requests.RequestException as exception:
        raise GitHubError(
            f"GitHub could not be reached while {what} ({type(exception).__name__})",
            transient=True,
        ) from None


def retry_delay(error: GitHubError, attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: the rate limit's reset, else doubling from
    2 s; never more than HATCHET_GITHUB_MAX_RETRY_DELAY."""
    wanted = error.retry_after if error.retry_after is not None else 2.0**attempt
    return max(min(wanted, settings.HATCHET_GITHUB_MAX_RETRY_DELAY), 1.0)


def masked(message: str, token: str) -> str:
    return message.replace(token, "[token]") if token else message
