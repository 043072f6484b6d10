"""The worker's outbox: result messages kept, in order, until the server acks them."""

import json
import uuid
from typing import Any, NamedTuple


class MessageTooLarge(ValueError):
    """An encoded message exceeds the server's `max_message_bytes`."""

    def __init__(self, message_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"{message_type} is {size} bytes, over the server's limit of {limit} bytes"
        )
        self.size = size
        self.limit = limit


class Entry(NamedTuple):
    """A message as it goes on the wire, and what the worker needs to know of it
    should the server never accept it."""

    text: str
    size: int
    type: str
    step_run_id: str | None
    attempt: int | None
    started_at: float | None


class Outbox:
    """Encoded messages by id, in the order they were added; acked ones leave.

    Messages are encoded once, when added, so that a non-JSON-serialisable or oversized
    message is refused at the source instead of failing at every send.
    """

    def __init__(self, max_message_bytes: int | None = None) -> None:
        self.max_message_bytes = max_message_bytes
        self._entries: dict[str, Entry] = {}

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
        entry = Entry(
            text,
            len(text.encode()),
            str(message.get("type", "message")),
            message.get("step_run_id"),
            message.get("attempt"),
            message.get("started_at"),
        )
        if self.max_message_bytes is not None and entry.size > self.max_message_bytes:
            raise MessageTooLarge(entry.type, entry.size, self.max_message_bytes)
        self._entries[message_id] = entry
        return message_id

    def set_limit(self, max_message_bytes: int) -> list[Entry]:
        """Take the server's limit; the messages kept that are over it leave, and are
        returned: a server restarted with a lower limit, or another behind the same
        address, would refuse them at every re-send."""
        self.max_message_bytes = max_message_bytes
        over = [
            message_id
            for message_id, entry in self._entries.items()
            if entry.size > max_message_bytes
        ]
        return [self._entries.pop(message_id) for message_id in over]

    def ack(self, message_id: str) -> bool:
        """Forget an acked message; False if it was not (or no longer) in the outbox."""
        return self.take(message_id) is not None

    def take(self, message_id: str) -> Entry | None:
        """Forget a message and return it, if it was still kept."""
        return self._entries.pop(message_id, None)

    def get(self, message_id: str) -> str | None:
        entry = self._entries.get(message_id)
        return None if entry is None else entry.text

    def pending(self) -> list[str]:
        """Ids of the unacked messages, oldest first: the order to re-send them in."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._entries
