"""OpenTelemetry end to end: a server and a worker, each exporting OTLP as the standard
variables tell them, to a loopback collector; one trace per run, the worker's step span
under the server's step run span, and the user's span under the step's."""

import uuid
from collections.abc import Iterator

import pytest

from hatchet.tracing import span_id_of
from tests.e2e.live import (
    LiveServer,
    serving,
    stop_process,
    wait_for,
    wait_for_status,
    worker_named,
)
from tests.otlp_server import LoopbackCollector


@pytest.fixture
def collector() -> Iterator[LoopbackCollector]:
    collector = LoopbackCollector().start()
    yield collector
    collector.stop()


@pytest.fixture
def traced_server(collector: LoopbackCollector) -> Iterator[LiveServer]:
    with serving(
        "hatchet_traced",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.origin,
        OTEL_SERVICE_NAME="hatchet-server",
        OTEL_BSP_SCHEDULE_DELAY="100",
    ) as server:
        yield server


def test_a_runs_trace_holds_the_servers_the_workers_and_the_users_spans(
    traced_server: LiveServer, collector: LoopbackCollector
) -> None:
    worker = traced_server.spawn(
        *("-m", "tests.e2e.worker_app", "--name", "traced", "--slots", "2"),
        HATCHET_SERVER_URL=traced_server.url,
        HATCHET_TOKEN=traced_server.token,
        OTEL_SERVICE_NAME="users-worker",
    )
    try:
        wait_for(lambda: worker_named(traced_server, "traced", worker), timeout=30)
        run = traced_server.client().admin.run_workflow("Traced", {})
        detail = wait_for_status(traced_server, run.workflow_run_id, "SUCCEEDED")
        run_id = uuid.UUID(run.workflow_run_id)
        step_run_id = uuid.UUID(detail["step_runs"][0]["id"])

        wait_for(lambda: collector.named("workflow run"), timeout=15)
        wait_for(lambda: collector.named("call the model"), timeout=15)
    finally:
        stop_process(worker)

    [root] = collector.named("workflow run")
    [server_step] = collector.named("step run Traced:call")
    [worker_step] = collector.named("step Traced:call")
    [users] = collector.named("call the model")
    assert {root.trace_id, server_step.trace_id, worker_step.trace_id, users.trace_id} == {
        run_id.int
    }
    assert (root.service, server_step.service) == ("hatchet-server", "hatchet-server")
    assert (worker_step.service, users.service) == ("users-worker", "users-worker")
    assert root.parent_span_id is None
    assert root.span_id == span_id_of(run_id)
    assert server_step.span_id == span_id_of(step_run_id)
    assert server_step.parent_span_id == root.span_id
    assert worker_step.parent_span_id == server_step.span_id
    assert users.parent_span_id == worker_step.span_id
    assert worker_step.attributes["hatchet.step_run_id"] == str(step_run_id)
