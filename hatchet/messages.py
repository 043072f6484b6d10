"""Validation of the JSON messages the sockets take from programs (the worker's and
the client's, docs/protocol.md): each socket names the fields each type needs."""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from hatchet import jsontext


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, message_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_id = message_id

    def as_message(self) -> dict[str, Any]:
        reply: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if isinstance(self.message_id, str):
            reply["id"] = self.message_id
        return reply


ANY = object()


@dataclass(frozen=True)
class Message:
    type: str
    fields: dict[str, Any]
    # Why its text cannot be stored, for a type whose refusal its socket answers itself.
    unstorable: str | None = None

    @property
    def id(self) -> str | None:
        return self.fields.get("id")

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def check_field(name: str, value: Any, expected: Any, message_id: Any) -> Any:
    if expected is ANY:
        return value
    if expected is UUID:
        try:
            return UUID(str(value))
        except ValueError:
            raise ProtocolError(
                "invalid_field", f"'{name}' must be a UUID string.", message_id
            ) from None
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ProtocolError("invalid_field", f"'{name}' must be an integer.", message_id)
    if not isinstance(value, expected):
        raise ProtocolError(
            "invalid_field", f"'{name}' must be of type {expected.__name__}.", message_id
        )
    return value


def decoded(text: str) -> tuple[Any, jsontext.JSONInputError | None]:
    """The message parsed, and why it cannot be taken although it parsed (too deep,
    text no database stores), None when it can."""
    try:
        return jsontext.load(text, what="Message"), None
    except jsontext.JSONInputError as refused:
        if refused.document is None:
            raise ProtocolError(refused.code, refused.message) from None
        return refused.document, refused


def too_large(text: str, max_bytes: int) -> ProtocolError:
    """The refusal of an oversized message, with its id when it has one: the sender
    must learn which message will never be accepted (a result re-sent until acked
    would otherwise be re-sent forever). The transport admits twice our limit, so
    the text read here is bounded."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raw = None
    return ProtocolError(
        "message_too_large",
        f"The message is {len(text.encode())} bytes; messages may be at most {max_bytes} bytes.",
        raw.get("id") if isinstance(raw, dict) else None,
    )


def parse_message(
    text: str,
    max_bytes: int,
    required_fields: dict[str, dict[str, Any]],
    refused_later: frozenset[str] = frozenset(),
) -> Message:
    """A validated message, or ProtocolError with the code the reply must carry. Text
    that cannot be stored (NUL, a lone surrogate) is refused with `invalid_text`, except
    in the types of `refused_later`, which carry the reason as `unstorable`; so is JSON
    nested too deeply, by the message's id when it parsed."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise too_large(text, max_bytes)
    raw, refusal = decoded(text)
    if not isinstance(raw, dict):
        raise ProtocolError("not_an_object", "A message must be a JSON object.")
    message_id = raw.get("id")
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("missing_field", "A message needs a string 'type'.", message_id)
    if kind not in required_fields:
        raise ProtocolError("unknown_type", f"Unknown message type '{kind}'.", message_id)
    fields = dict(raw)
    for name, expected in required_fields[kind].items():
        if name not in raw:
            raise ProtocolError("missing_field", f"'{kind}' needs the field '{name}'.", message_id)
        fields[name] = check_field(name, raw[name], expected, message_id)
    if refusal is None:
        return Message(kind, fields)
    if kind not in refused_later:
        raise ProtocolError(refusal.code, refusal.message, message_id)
    return Message(kind, fields, refusal.message)
