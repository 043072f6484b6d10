"""The worker's outbox: result messages kept, in order, until the server acks them."""

import json
import uuid
from typing import Any


class MessageTooLarge(ValueError):
    """An encoded message exceeds the server's `max_message_bytes`."""


class Outbox:
    """Encoded messages by id, in the order they were added; acked ones leave.

    Messages are encoded once, when added, so that a non-JSON-serialisable or oversized
    message is refused at the source instead of failing at every send.
    """

    def __init__(self, max_message_bytes: int | None = None) -> None:
        self.max_message_bytes = max_message_bytes
        self._entries: dict[str, str] = {}

    def add(self, message: dict[str, Any]) -> str:
        """Give the message an id, encode and keep it; return the id.

        Raises TypeError or ValueError if it is not JSON-serialisable, MessageTooLarge if
        its encoding is over the limit.
        """
        message_id = uuid.uuid4().hex
        text = json.dumps(
            {**message, "id": message_id},
            allow_nan=False,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if self.max_message_bytes is not None:
            size = len(text.encode())
            if size > self.max_message_bytes:
                raise MessageTooLarge(
                    f"{message.get('type', 'message')} is {size} bytes, over the server's "
                    f"limit of {self.max_message_bytes} bytes"
                )
        self._entries[message_id] = text
        return message_id

    def ack(self, message_id: str) -> bool:
        """Forget an acked message; False if it was not (or no longer) in the outbox."""
        return self._entries.pop(message_id, None) is not None

    def get(self, message_id: str) -> str | None:
        return self._entries.get(message_id)

    def pending(self) -> list[str]:
        """Ids of the unacked messages, oldest first: the order to re-send them in."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._entries
