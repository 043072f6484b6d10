"""A loopback OpenTelemetry collector: it takes OTLP/HTTP trace exports (protobuf, as
the OTLP exporters send them) and keeps each span with its service's name."""

import gzip
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.loopback import LoopbackServer, QuietHandler


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: int
    span_id: int
    parent_span_id: int | None
    attributes: dict[str, str]


class LoopbackCollector(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(CollectorHandler)
        self.spans: list[ReceivedSpan] = []
        self.server.collector = self  # type: ignore[attr-defined]

    def receive(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=service,
                            name=span.name,
                            trace_id=int.from_bytes(span.trace_id, "big"),
                            span_id=int.from_bytes(span.span_id, "big"),
                            parent_span_id=(
                                int.from_bytes(span.parent_span_id, "big")
                                if span.parent_span_id
                                else None
                            ),
                            attributes={
                                a.key: str(
                                    a.value.string_value
                                    or a.value.int_value
                                    or a.value.bool_value
                                    or ""
                                )
                                for a in span.attributes
                            },
                        )
                    )
        with self.lock:
            self.spans.extend(received)

    def named(self, name: str) -> list[ReceivedSpan]:
        with self.lock:
            return [span for span in self.spans if span.name == name]


class CollectorHandler(QuietHandler):
    def do_POST(self) -> None:
        if self.path != "/v1/traces":
            self.send_bytes(404, b"", "text/plain")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        collector: LoopbackCollector = self.server.collector  # type: ignore[attr-defined]
        collector.receive(request)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_bytes(200, answer, "application/x-protobuf")
