"""Bases of every socket: one that handles its messages without Channels' per-message
hop to the loop's sync thread and follows its caller (closing when the token is revoked
or the member removed, or when a new role may not use it); the dashboard's read-only
sockets, which send JSON and refuse what they are sent; a watch socket joins one group,
sends a snapshot, then what the group gets."""

import asyncio
import contextlib
import json
import logging
from typing import Any
from uuid import UUID

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from typing_extensions import override

from hatchet.auth import SUBPROTOCOL, Caller
from hatchet.caller_events import caller_group, current_caller
from hatchet.concurrency import in_db_thread
from hatchet.db import is_transient
from hatchet.models import Role, role_allows

logger = logging.getLogger(__name__)

# Close codes (docs/protocol.md): no valid token or session, or it was revoked; the
# caller's role may not use this socket; the tenant has no such thing.
UNAUTHORIZED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404


def is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


class Socket(AsyncWebsocketConsumer):
    """A websocket consumer whose database work runs only through in_db_thread or
    database_sync_to_async, which close their own thread's stale connections.

    Channels' dispatch first closes the stale connections of the loop's sync thread,
    a round trip to that thread and back for every message received or sent to the
    group; ours never use that thread's connections, and the hop cost a trigger
    its share of latency and the server its share of CPU."""

    caller: Caller | None = None
    followed_group: str | None = None
    recheck_task: "asyncio.Task[None] | None" = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        # A client that offers subprotocols (a browser, which can only send its token
        # as one) fails the handshake unless the server picks one of them.
        if subprotocol is None and SUBPROTOCOL in self.scope.get("subprotocols", []):
            subprotocol = SUBPROTOCOL
        await super().accept(subprotocol, headers)

    def may_use(self, caller: Caller) -> bool:
        """Whether the caller's role may use this socket; any member role by default."""
        return role_allows(caller.role, Role.VIEWER)

    async def follow_caller(self, caller: Caller) -> bool:
        """From now on, re-check the caller whenever its token or membership changes;
        False when it already changed (the socket is refused)."""
        self.caller = caller
        self.followed_group = caller_group(caller)
        await self.channel_layer.group_add(self.followed_group, self.channel_name)
        # A change between the handshake's read of the caller and joining the group was
        # announced to nobody: read it again now that no later one can be missed.
        if not await self.recheck_caller():
            return False
        self.recheck_task = asyncio.create_task(self.recheck_caller_now_and_then())
        return True

    async def recheck_caller_now_and_then(self) -> None:
        """A change's announcement travels through the channel layer, and one sent while
        Redis was down is lost: without these reads a revoked token's open sockets would
        go on until they closed."""
        while True:
            await asyncio.sleep(settings.HATCHET_CALLER_RECHECK_INTERVAL)
            try:
                if not await self.recheck_caller():
                    return
            except Exception as error:
                if not is_transient(error):
                    raise
                logger.warning("could not read a socket's caller again: %s", error)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.recheck_task is not None and self.recheck_task is not asyncio.current_task():
            self.recheck_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.recheck_task
            self.recheck_task = None
        if self.followed_group is not None:
            await self.channel_layer.group_discard(self.followed_group, self.channel_name)
            self.followed_group = None
        await super().websocket_disconnect(message)

    async def caller_changed(self, _event: dict[str, Any]) -> None:
        await self.recheck_caller()

    async def recheck_caller(self) -> bool:
        """Read the caller again; refuse the socket and answer False when it is gone or
        its role may no longer use the socket."""
        if self.caller is None:
            raise RuntimeError("the socket has not been accepted")
        caller = await in_db_thread(current_caller, self.caller)
        if caller is None:
            await self.refuse(UNAUTHORIZED, "unauthorized", "The token or membership was revoked.")
            return False
        if not self.may_use(caller):
            await self.refuse(
                FORBIDDEN, "forbidden", f"The {caller.role} role may not use this socket."
            )
            return False
        self.caller = caller
        return True

    @override
    async def refuse(self, code: int, error_code: str, message: str) -> None:
        """Close an accepted socket whose caller may not (or no longer) use it."""
        await self.close(code=code)


class SendingConsumer(Socket):
    """A socket that only sends JSON."""

    @override
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send_json(
            {"type": "error", "code": "read_only", "message": "This socket only sends."}
        )

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, cls=DjangoJSONEncoder))

    async def accept_caller(self) -> Caller | None:
        """Accept the socket and return its caller; without one, close with 4401, and
        with one whose role may not use the socket (a worker token), with 4403;
        with 4404 when an id in the path is not a UUID (the routes take any 36 hex
        digits and dashes; the database, only a UUID)."""
        await self.accept()
        caller: Caller | None = self.scope.get("caller")
        if caller is None:
            await self.close(code=UNAUTHORIZED)
            return None
        if not all(is_uuid(value) for value in self.scope["url_route"]["kwargs"].values()):
            await self.close(code=NOT_FOUND)
            return None
        if not self.may_use(caller):
            await self.close(code=FORBIDDEN)
            return None
        if not await self.follow_caller(caller):
            return None
        return self.caller


class WatchConsumer(SendingConsumer):
    """One thing of the caller's tenant: its snapshot, then its changes. Closes with
    4401 without a caller and 4404 when the tenant has no such thing."""

    group: str | None = None

    def group_name(self, kwargs: dict[str, Any]) -> str:
        raise NotImplementedError

    def snapshot(self, tenant_id: Any, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """Runs in a database thread; None when the tenant has no such thing."""
        raise NotImplementedError

    async def start_watching(self, kwargs: dict[str, Any]) -> None:
        """Tell the senders of the group's changes that it has a member; called
        after joining, before the snapshot."""

    async def stop_watching(self) -> None:
        """Undo start_watching."""

    async def connect(self) -> None:
        caller = await self.accept_caller()
        if caller is None:
            return
        kwargs = self.scope["url_route"]["kwargs"]
        # Join before the snapshot so no change falls between the two.
        self.group = self.group_name(kwargs)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.start_watching(kwargs)
        snapshot = await database_sync_to_async(self.snapshot)(caller.tenant.id, kwargs)
        if snapshot is None:
            await self.leave_group()
            await self.close(code=NOT_FOUND)
            return
        await self.send_json(snapshot)

    @override
    async def disconnect(self, code: int) -> None:
        await self.leave_group()

    async def leave_group(self) -> None:
        if self.group is not None:
            await self.stop_watching()
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
