"""OpenTelemetry traces of workflow runs, on when the standard variables name an
exporter (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
OTEL_TRACES_EXPORTER=otlp; OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and the exporter's
own variables as the SDK reads them).

Each workflow run is one trace whose id is the run's id, and each step run a span whose
id comes from the step run's: the spans are written once what they cover has ended
(from the rows, after commit), and a worker given a step run's `traceparent` nests its
spans, and the user's, under the server's without the server keeping a thing."""

import os
import random
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, Tracer

SPAN_ID_MASK = (1 << 64) - 1
EXPORTER_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

# The ids the next span takes: (trace id for a root span or None, span id).
_chosen_ids: ContextVar[tuple[int | None, int] | None] = ContextVar(
    "hatchet_span_ids", default=None
)


class ChosenIds(IdGenerator):
    """The ids `record_span` chose, else random ones (spans of other code)."""

    def generate_span_id(self) -> int:
        chosen = _chosen_ids.get()
        return chosen[1] if chosen else random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        chosen = _chosen_ids.get()
        if chosen and chosen[0] is not None:
            return chosen[0]
        return random.getrandbits(128) or 1


_tracer: list[Tracer] = []


def exporter_from_environment() -> SpanExporter | None:
    """The OTLP exporter the OTEL_* variables ask for, if they ask for one."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    wanted = os.environ.get("OTEL_TRACES_EXPORTER", "")
    if wanted in ("", "none") and not any(os.environ.get(name) for name in EXPORTER_VARIABLES):
        return None
    if wanted not in ("", "otlp"):
        raise ValueError(f"OTEL_TRACES_EXPORTER={wanted!r}: only 'otlp' (over HTTP) is built in.")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing(exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Start tracing into `exporter` (else the one the environment names); returns the
    provider, whose shutdown() flushes what is pending, or None when tracing is off."""
    exporter = exporter or exporter_from_environment()
    _tracer.clear()
    if exporter is None:
        return None
    service = os.environ.get("OTEL_SERVICE_NAME", "hatchet")
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), id_generator=ChosenIds()
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    _tracer.append(provider.get_tracer("hatchet"))
    return provider


def is_tracing() -> bool:
    return bool(_tracer)


def span_id_of(object_id: UUID) -> int:
    return (object_id.int & SPAN_ID_MASK) or 1


def traceparent(workflow_run_id: UUID, step_run_id: UUID) -> str:
    """The W3C trace context a worker nests a step run's spans under."""
    return f"00-{workflow_run_id.hex}-{span_id_of(step_run_id):016x}-01"


def record_span(
    name: str,
    trace_id: int,
    span_id: int,
    parent_span_id: int | None,
    start: datetime,
    end: datetime,
    attributes: Mapping[str, Any],
) -> None:
    """Write a span that has ended, with the ids given (a root span when no parent)."""
    if not _tracer:
        return
    context = None
    if parent_span_id is not None:
        parent = SpanContext(trace_id, parent_span_id, False, TraceFlags(TraceFlags.SAMPLED))
        context = trace.set_span_in_context(NonRecordingSpan(parent))
    token = _chosen_ids.set((None if parent_span_id else trace_id, span_id))
    try:
        span = _tracer[0].start_span(
            name, context=context, start_time=nanoseconds(start), attributes=attributes
        )
    finally:
        _chosen_ids.reset(token)
    span.end(end_time=nanoseconds(max(end, start)))


def nanoseconds(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)
