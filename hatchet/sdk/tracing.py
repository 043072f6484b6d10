"""A step's span, under the server's span of its step run, when the worker's process
uses OpenTelemetry (opentelemetry-api installed and a tracer provider set up, e.g. by
`opentelemetry-instrument`): the user's own spans inside the step nest under it. Without
OpenTelemetry this costs nothing."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError:  # pragma: no cover (the SDK works without it)
    trace = None  # type: ignore[assignment]


@contextmanager
def step_span(action: str, traceparent: Any, attributes: dict[str, Any]) -> Iterator[None]:
    """The span of one attempt of a step on this worker, current while the step runs."""
    # Without a provider set up, spans would record nothing: spare each step the work.
    unset = trace is None or isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    if unset or not isinstance(traceparent, str):
        yield
        return
    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    tracer = trace.get_tracer("hatchet.sdk")
    # Not recorded as errors: a durable step's suspension (a BaseException) is not one.
    with tracer.start_as_current_span(
        f"step {action}",
        context=parent,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except Exception as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise
