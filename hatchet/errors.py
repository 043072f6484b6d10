"""Errors the engine raises for callers to translate (HTTP, websocket, CLI)."""

from typing import Any


class EngineError(Exception):
    code = "engine_error"
    status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidDefinition(EngineError):
    code = "invalid_definition"


class InvalidRequest(EngineError):
    code = "invalid_request"


class NotFound(EngineError):
    code = "not_found"
    status = 404


class Conflict(EngineError):
    code = "conflict"
    status = 409


class PayloadTooLarge(EngineError):
    code = "payload_too_large"
    status = 413
