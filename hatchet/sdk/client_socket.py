"""The client socket: one lasting websocket per `Hatchet` client that carries its
triggers and event pushes, so that each costs one message, not an HTTP request
(docs/protocol.md, "The client socket")."""

import itertools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import ExitStack
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from hatchet.sdk.errors import HatchetConnectionError, HatchetError

logger = logging.getLogger("hatchet.sdk")

ErrorFactory = Callable[[int, Any], HatchetError]


class SocketUnavailable(Exception):
    """The server has no client socket (it answered the upgrade with 404)."""


class OpenSocket:
    """One connection, the requests waiting on it, and the thread reading its replies."""

    def __init__(self, connection: ClientConnection, on_closed: Callable[["OpenSocket"], None]):
        # Entered as a context for its whole life, which websockets asks of a connection
        # that outlives the block that opened it.
        self.exits = ExitStack()
        self.connection = self.exits.enter_context(connection)
        self.pending: dict[str, Future[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.closed = False
        self.on_closed = on_closed
        threading.Thread(
            target=self.read_replies, name="hatchet-client-socket", daemon=True
        ).start()

    def read_replies(self) -> None:
        try:
            for text in self.connection:
                reply = json.loads(text)
                with self.lock:
                    future = self.pending.pop(str(reply.get("id")), None)
                if future is None:
                    logger.warning("client socket: a reply to no request: %s", reply)
                else:
                    future.set_result(reply)
        except (ConnectionClosed, OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.closed = True
                waiting, self.pending = list(self.pending.values()), {}
            self.on_closed(self)
            for future in waiting:
                future.set_exception(
                    HatchetConnectionError(
                        "the connection to Hatchet closed before the answer came; "
                        "the request may or may not have been applied"
                    )
                )

    def send(self, request_id: str, request: dict[str, Any]) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        with self.lock:
            if self.closed:
                raise HatchetConnectionError("the connection to Hatchet is closed")
            self.pending[request_id] = future
            try:
                self.connection.send(json.dumps({**request, "id": request_id}))
            except (ConnectionClosed, OSError) as exc:
                self.pending.pop(request_id, None)
                raise HatchetConnectionError(f"cannot send to Hatchet: {exc}") from exc
        return future

    def close(self) -> None:
        self.exits.close()


class ClientSocket:
    """Opened on the first call and again after a drop; thread-safe."""

    def __init__(
        self, server_url: str, token: str | None, timeout: float, make_error: ErrorFactory
    ) -> None:
        scheme, rest = server_url.split("://", 1)
        self.url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws/client"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout
        self.make_error = make_error
        self.available = True
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.open: OpenSocket | None = None

    def call(self, request: dict[str, Any]) -> Any:
        """The body of the answer, or the SDK error the answer stands for."""
        future = self.socket().send(str(next(self.ids)), request)
        try:
            reply = future.result(timeout=self.timeout)
        except TimeoutError:
            raise HatchetConnectionError(
                f"no answer from Hatchet within {self.timeout:g}s; "
                "the request may or may not have been applied"
            ) from None
        if reply.get("type") == "result":
            return reply.get("body")
        # A request the socket itself refused (too large, say) has no REST twin status.
        error = reply.get("error") or {"code": reply.get("code"), "message": reply.get("message")}
        raise self.make_error(int(reply.get("status") or 400), {"error": error})

    def socket(self) -> OpenSocket:
        with self.lock:
            if self.open is None:
                self.open = OpenSocket(self.connect(), self.forget)
            return self.open

    def connect(self) -> ClientConnection:
        try:
            return connect(self.url, additional_headers=self.headers, open_timeout=5, max_size=None)
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status == 404:
                self.available = False
                raise SocketUnavailable from exc
            raise self.make_error(status, None) from exc
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise HatchetConnectionError(
                f"cannot reach Hatchet at {self.url}: {exc or type(exc).__name__}"
            ) from exc

    def forget(self, closed: OpenSocket) -> None:
        with self.lock:
            if self.open is closed:
                self.open = None

    def close(self) -> None:
        with self.lock:
            open_socket, self.open = self.open, None
        if open_socket is not None:
            open_socket.close()
