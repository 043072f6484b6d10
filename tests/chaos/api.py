"""The harness's REST access to the servers under test, which notes every 5xx answer
it gets: the suite asserts there are none."""

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ServerErrorAnswer:
    """A 5xx a client of the harness got, from REST or over the SDK's client socket."""

    at: float
    server: int
    request: str
    status: int
    body: str


class Api:
    """httpx clients of each server, authenticated with the stack's token."""

    def __init__(self, urls: list[str], token: str, timeout: float = 10.0) -> None:
        self.urls = urls
        self._clients = [
            httpx.Client(
                base_url=f"{url}/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(timeout, connect=2.0),
            )
            for url in urls
        ]
        self._lock = threading.Lock()
        self.server_errors: list[ServerErrorAnswer] = []

    def request(self, server: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to one server; transport errors propagate, 5xx answers are noted."""
        response = self._clients[server].request(method, path, **kwargs)
        if response.status_code >= 500:
            self.note_server_error(server, f"{method} {path}", response.status_code, response.text)
        return response

    def note_server_error(self, server: int, request: str, status: int, body: str) -> None:
        with self._lock:
            self.server_errors.append(
                ServerErrorAnswer(time.time(), server, request, status, body[:500])
            )

    def read(self, path: str, params: Any = None, patience: float = 30.0) -> Any:
        """GET `path` from whichever server answers, retrying transport errors and 5xx
        (reads are safe to repeat) for up to `patience` seconds."""
        deadline = time.monotonic() + patience
        problem = ""
        while time.monotonic() < deadline:
            for server in range(len(self.urls)):
                try:
                    response = self.request(server, "GET", path, params=params)
                except httpx.TransportError as exc:
                    problem = f"{self.urls[server]}: {type(exc).__name__} {exc}"
                    continue
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.json()
                problem = f"{self.urls[server]}: HTTP {response.status_code}"
            time.sleep(0.5)
        raise RuntimeError(f"GET {path} failed on every server for {patience:g} s: {problem}")

    def read_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.read(path, {**(params or {}), "limit": 500, "offset": len(items)})
            items.extend(page["results"])
            if not page.get("next"):
                return items

    def close(self) -> None:
        for client in self._clients:
            client.close()
