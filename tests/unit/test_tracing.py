"""OpenTelemetry: a run is one trace with the run's id, its step runs are spans under the
run's with ids from theirs, and a worker's span of a step (with the user's inside) goes
under the step run's through the traceparent the assignment carries."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from hatchet.models import Tenant
from hatchet.sdk.durable import Suspended
from hatchet.sdk.tracing import step_span
from hatchet.tracing import configure_tracing, span_id_of, traceparent
from tests.factories import ScriptedWorker, register, start_run


@pytest.fixture
def server_spans() -> Iterator[Callable[[], tuple[ReadableSpan, ...]]]:
    """The server's spans, read once what is pending is exported."""
    exporter = InMemorySpanExporter()
    provider = configure_tracing(exporter)
    assert provider is not None

    def exported() -> tuple[ReadableSpan, ...]:
        provider.force_flush()
        return exporter.get_finished_spans()

    yield exported
    provider.shutdown()
    configure_tracing(None)


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


@pytest.mark.django_db(transaction=True)
def test_a_run_is_one_trace_of_its_step_runs_and_their_waits(
    tenant: Tenant, server_spans: Callable[[], tuple[ReadableSpan, ...]]
) -> None:
    register(tenant, steps=[{"name": "a", "parents": []}, {"name": "b", "parents": ["a"]}])
    run = start_run(tenant)
    worker = ScriptedWorker(tenant)

    first = worker.complete("Chain:a", {"ok": 1})
    second = worker.fail("Chain:b", "boom")
    provider_spans = server_spans()

    by_name = {span.name: span for span in provider_spans if span.name != "queued"}
    root = by_name["workflow run"]
    assert {span.context.trace_id for span in provider_spans} == {run.id.int}
    assert root.context.span_id == span_id_of(run.id)
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["hatchet.status"] == "FAILED"
    step_a, step_b = by_name["step run Chain:a"], by_name["step run Chain:b"]
    assert step_a.context.span_id == span_id_of(first.id)
    assert step_b.context.span_id == span_id_of(second.id)
    assert parent_id(step_a) == parent_id(step_b) == span_id_of(run.id)
    assert step_b.attributes is not None
    assert step_b.attributes["hatchet.error"] == "boom"
    waits = [span for span in provider_spans if span.name == "queued"]
    assert sorted(parent_id(span) or 0 for span in waits) == sorted(
        [span_id_of(first.id), span_id_of(second.id)]
    )
    for wait in waits:
        step = step_a if parent_id(wait) == span_id_of(first.id) else step_b
        assert step.start_time is not None
        assert wait.start_time is not None
        assert step.end_time is not None
        assert wait.end_time is not None
        assert step.start_time <= wait.start_time <= wait.end_time <= step.end_time


def test_the_assignment_names_the_step_runs_span_as_its_traceparent() -> None:
    run_id, step_run_id = uuid.uuid4(), uuid.uuid4()

    header = traceparent(run_id, step_run_id)

    assert header == f"00-{run_id.hex}-{span_id_of(step_run_id):016x}-01"


@pytest.fixture(scope="module")
def worker_spans() -> InMemorySpanExporter:
    """The worker process's own OpenTelemetry, as a user's app sets it up."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def test_a_steps_span_and_the_users_inside_it_nest_under_the_step_run(
    worker_spans: InMemorySpanExporter,
) -> None:
    worker_spans.clear()
    run_id, step_run_id = uuid.uuid4(), uuid.uuid4()

    users_code = trace.get_tracer("users.code")
    with (
        step_span("Chain:a", traceparent(run_id, step_run_id), {"hatchet.attempt": 1}),
        users_code.start_as_current_span("call the model"),
    ):
        pass

    users, step = worker_spans.get_finished_spans()
    assert step.name == "step Chain:a"
    assert step.context.trace_id == users.context.trace_id == run_id.int
    assert parent_id(step) == span_id_of(step_run_id)
    assert parent_id(users) == step.context.span_id
    assert step.status.status_code == StatusCode.UNSET


def test_a_failing_step_marks_its_span_but_a_durable_suspension_does_not(
    worker_spans: InMemorySpanExporter,
) -> None:
    worker_spans.clear()
    header = traceparent(uuid.uuid4(), uuid.uuid4())

    with pytest.raises(ValueError, match="bad input"), step_span("Chain:a", header, {}):
        raise ValueError("bad input")
    with pytest.raises(Suspended), step_span("Chain:b", header, {}):
        raise Suspended

    failed, suspended = worker_spans.get_finished_spans()
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.status.description == "ValueError: bad input"
    assert suspended.status.status_code == StatusCode.UNSET
    assert suspended.events == ()


def test_without_a_traceparent_the_step_runs_untraced(worker_spans: InMemorySpanExporter) -> None:
    worker_spans.clear()

    with step_span("Chain:a", None, {}):
        pass

    assert worker_spans.get_finished_spans() == ()
