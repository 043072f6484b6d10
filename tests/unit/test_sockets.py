"""Our sockets handle each message on the loop, without Channels' hop to its sync thread."""

from typing import Any

import channels.consumer
import channels.generic.websocket
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from typing_extensions import override

from hatchet.sockets import Socket


class Echo(Socket):
    async def connect(self) -> None:
        await self.accept()

    @override
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=text_data)


def test_a_socket_answers_without_a_hop_to_the_loops_sync_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hops: list[Any] = []

    async def hop() -> None:
        hops.append("closed the sync thread's connections")

    async def leave() -> None:
        pass

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", hop)
    # Leaving closes them once per socket, as it should; not what is counted here.
    monkeypatch.setattr(channels.generic.websocket, "aclose_old_connections", leave)

    async def talk() -> None:
        socket = WebsocketCommunicator(Echo.as_asgi(), "/echo")
        connected, _ = await socket.connect()
        assert connected
        await socket.send_to(text_data="ping")
        assert await socket.receive_from() == "ping"
        await socket.disconnect()

    async_to_sync(talk)()
    assert hops == []
