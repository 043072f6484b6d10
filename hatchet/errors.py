"""Errors the services (engine, members, playground) raise for callers to translate
(HTTP, websocket, CLI)."""

from typing import Any


class ServiceError(Exception):
    code = "service_error"
    status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidDefinition(ServiceError):
    code = "invalid_definition"


class InvalidRequest(ServiceError):
    code = "invalid_request"


class Forbidden(ServiceError):
    code = "permission_denied"
    status = 403


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"
    status = 413


class NotConfigured(ServiceError):
    """The operator has not configured what this needs (the message names the setting)."""

    code = "not_configured"
    status = 503
