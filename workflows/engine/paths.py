"""Paths into a run's input or metadata ("input.customer_id", "metadata.tenant"), the
expressions that concurrency keys and rate limits are computed from."""

from typing import Any


def key_path(expression: str) -> list[str]:
    """['input', 'customer_id'] for 'input.customer_id'; [] if it names neither the
    input nor the metadata."""
    parts = expression.strip().split(".")
    if len(parts) < 2 or parts[0] not in ("input", "metadata") or not all(parts):
        return []
    return parts


def value_at(expression: str, input: Any, metadata: Any) -> Any:
    """The value at the path in the run's input or metadata; None where it is missing."""
    [root, *path] = key_path(expression)
    value: Any = input if root == "input" else metadata
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value
