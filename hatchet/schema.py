"""The OpenAPI schema's rules beyond each view's own: every operation lists the error
answers it can give, each in the one error shape (hatchet/api.py)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: e.g. invalid_request.")
    message = serializers.CharField()
    details = serializers.JSONField(help_text="What the code needs: fields, a path, ids.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class HatchetAutoSchema(AutoSchema):
    """A request body whose serializer sets `refuses_unknown_fields` says so
    (additionalProperties: false)."""

    def error_statuses(self) -> dict[str, str]:
        """The error statuses of this operation, with what each means."""
        statuses = {"400": "The request is malformed or invalid (see error.code)."}
        view = self.view
        if view.permission_classes or view.authentication_classes:
            statuses["401"] = "No valid credentials."
            statuses["403"] = "The caller may not do this."
        statuses["404"] = "The tenant has no such object (in the path or the body)."
        if self.method in WRITES:
            statuses["409"] = "The object's state does not allow this now."
        if self.method in WRITES - {"DELETE"}:
            statuses["413"] = "The body is larger than the server takes."
            statuses["415"] = "The body is not JSON."
        if view.throttle_classes:
            statuses["429"] = "Too many requests; retry after Retry-After seconds."
        return statuses

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status, meaning in self.error_statuses().items():
            if status not in responses:
                answer = self._get_response_for_code(ErrorSerializer, status, direction=direction)
                responses[status] = {**answer, "description": meaning}
        return responses
