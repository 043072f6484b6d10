"""The workflows the end-to-end tests run, served by a real SDK worker process.

Usage: python -m tests.e2e.worker_app --name NAME --slots N
Steps that must be observed from outside write marker files named in their input.
"""

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from opentelemetry import trace

from hatchet.sdk import (
    ChildWorkflowFailed,
    Concurrency,
    Context,
    DesiredLabel,
    Hatchet,
    NonRetryableError,
    RateLimit,
    Spawn,
    WaitTimedOut,
    Worker,
)

hatchet = Hatchet()
# This process's worker, for the step that changes its labels.
WORKER: Worker | None = None


def mark(context: Context, event: str) -> None:
    directory = context.workflow_input().get("markers")
    if directory:
        path = Path(directory) / f"{event}-{context.step_run_id}-{context.attempt}-{os.getpid()}"
        path.write_text(str(time.time()))


@hatchet.workflow()
class FanOut:
    @hatchet.step()
    def start(self, context: Context) -> dict:
        return {"n": context.workflow_input()["n"]}

    @hatchet.step(parents=["start"])
    def double(self, context: Context) -> dict:
        return {"value": context.step_output("start")["n"] * 2}

    @hatchet.step(parents=["start"])
    async def square(self, context: Context) -> dict:
        return {"value": context.step_output("start")["n"] ** 2}

    @hatchet.step(parents=["double", "square"])
    def join(self, context: Context) -> dict:
        return {
            "sum": context.step_output("double")["value"] + context.step_output("square")["value"]
        }


@hatchet.workflow()
class AlwaysFails:
    @hatchet.step(retries=2, backoff={"initial": "1s", "factor": 2, "max": "10s"})
    def explode(self, context: Context) -> dict:
        raise RuntimeError(f"boom on retry {context.retry_count}")


@hatchet.workflow()
class Refund:
    """Fails for good at once, whatever its retries; its on-failure step reports what."""

    @hatchet.step(retries=3)
    def refund(self, context: Context) -> dict:
        raise NonRetryableError(f"no order {context.workflow_input()['order']}")

    @hatchet.on_failure_step()
    def report(self, context: Context) -> dict:
        return {"order": context.workflow_input()["order"], "errors": context.step_run_errors()}


@hatchet.workflow()
class Sleepy:
    @hatchet.step(timeout="1s")
    def nap(self, context: Context) -> dict:
        deadline = time.monotonic() + float(context.workflow_input().get("seconds", 10))
        while time.monotonic() < deadline and not context.cancelled.is_set():
            time.sleep(0.05)
        if context.cancelled.is_set():
            mark(context, "stopped")
        return {"slept": True}


@hatchet.workflow()
class Waits:
    @hatchet.step(timeout="60s")
    async def wait(self, context: Context) -> dict:
        mark(context, "started")
        try:
            await asyncio.sleep(float(context.workflow_input().get("seconds", 30)))
        except asyncio.CancelledError:
            mark(context, "stopped")
            raise
        mark(context, "finished")
        return {"waited": True}


@hatchet.workflow()
class Quick:
    @hatchet.step(timeout="30s")
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class Traced:
    """A step that opens a span of the user's own code (traced when the process sets up
    OpenTelemetry: see trace_if_asked)."""

    @hatchet.step()
    def call(self, _context: Context) -> dict:
        with trace.get_tracer("e2e.users.code").start_as_current_span("call the model"):
            return {"ok": True}


def trace_if_asked() -> None:
    """OpenTelemetry set up as a user's worker does, when the environment names an OTLP
    endpoint."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


@hatchet.workflow(priority=3)
class Urgent:
    """Quick, with priority 3 unless a trigger names another."""

    @hatchet.step()
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow(concurrency=Concurrency(key="input.customer", max_runs=2))
class PerCustomer:
    """Quick, with at most two runs per customer at once; a customer who floods waits."""

    @hatchet.step()
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class PerCustomerStep:
    """Quick, with at most two of its steps per customer held by workers at once."""

    @hatchet.step(concurrency=Concurrency(key="input.customer", max_runs=2))
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow(concurrency=Concurrency(key="input.account", max_runs=1, scope="account"))
class AccountCharge:
    """Quick; one run per account at once, counted with AccountRefund's."""

    @hatchet.step()
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow(concurrency=Concurrency(key="input.account", max_runs=1, scope="account"))
class AccountRefund:
    """AccountCharge's twin in the scope "account"."""

    @hatchet.step()
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class RateLimited:
    """Quick; each run takes a unit of the "e2e-calls" limit, which the tests put."""

    @hatchet.step(rate_limits=[RateLimit(key="e2e-calls")])
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class PerUserLimited:
    """Quick; at most two runs a second per user."""

    @hatchet.step(rate_limits=[RateLimit(dynamic_key="input.user", limit=2, period="second")])
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class GpuOnly:
    """Quick, on a worker with a GPU and at least 16 GB."""

    @hatchet.step(
        desired_worker_labels={
            "gpu": DesiredLabel(True, required=True),
            "memory_gb": DesiredLabel(16, required=True, comparator=">="),
        }
    )
    def work(self, context: Context) -> dict:
        return timed_work(context)


@hatchet.workflow()
class Relabel:
    """Sets the labels of the worker it runs on to its input's `labels`."""

    @hatchet.step()
    def work(self, context: Context) -> dict:
        if WORKER is None:
            raise RuntimeError("no worker")
        WORKER.upsert_labels(context.workflow_input()["labels"])
        return {"labels": WORKER.labels}


@hatchet.workflow(sticky="hard")
class StickyPair:
    """Two steps that stay on the worker that took the first; the first marks its start
    and sleeps `seconds`, so that a test can kill its worker meanwhile."""

    @hatchet.step()
    def first(self, context: Context) -> dict:
        return sleep_between_marks(context)

    @hatchet.step(parents=["first"])
    def second(self, _context: Context) -> dict:
        return {"pid": os.getpid()}


def timed_work(context: Context) -> dict:
    started = time.time()
    time.sleep(float(context.workflow_input().get("seconds", 0.02)))
    return {"started": started, "finished": time.time(), "pid": os.getpid()}


def sleep_between_marks(context: Context) -> dict:
    mark(context, "started")
    time.sleep(float(context.workflow_input().get("seconds", 3)))
    mark(context, "finished")
    return {"pid": os.getpid(), "attempt": context.attempt}


@hatchet.workflow()
class SlowOnce:
    @hatchet.step(timeout="60s")
    def work(self, context: Context) -> dict:
        return sleep_between_marks(context)


@hatchet.workflow()
class Overrun:
    """A sync step that ignores its timeout: its thread runs on after the attempt ended."""

    @hatchet.step(timeout="1s")
    def work(self, context: Context) -> dict:
        return sleep_between_marks(context)


@hatchet.workflow()
class Streams:
    @hatchet.step(timeout="30s")
    def speak(self, context: Context) -> dict:
        words = context.workflow_input()["words"]
        for word in words:
            context.put_stream(word)
            context.log(f"said {word}")
            time.sleep(0.2)
        return {"said": len(words)}


@hatchet.workflow()
class PlaygroundChain:
    """Three steps exposing playground variables: `outline` leaves a marker each time
    it runs, `draft` streams its words and reports token usage."""

    @hatchet.step(timeout="30s")
    def outline(self, context: Context) -> dict:
        mark(context, "outline")
        prefix = context.playground("prefix", "Topic")
        return {"outline": f"{prefix}: {context.workflow_input()['topic']}"}

    @hatchet.step(parents=["outline"], timeout="30s")
    def draft(self, context: Context) -> dict:
        tone = context.playground("tone", "plain")
        count = context.playground("words", 3)
        outline = context.step_output("outline")["outline"]
        words = [f"{tone}{i}" for i in range(count)]
        for word in words:
            context.put_stream(word + " ")
            time.sleep(float(context.workflow_input().get("pause", 0)))
        context.usage(prompt_tokens=len(outline.split()), completion_tokens=count, model="e2e-llm")
        return {"text": f"{outline} | {' '.join(words)}"}

    @hatchet.step(parents=["draft"], timeout="30s")
    def polish(self, context: Context) -> dict:
        text = context.step_output("draft")["text"]
        return {"final": text.upper() if context.playground("shout", False) else text}


@hatchet.workflow()
class Graded:
    """Answers about a topic; the code evaluators below score its answers."""

    @hatchet.step(timeout="30s")
    def answer(self, context: Context) -> dict:
        tone = context.playground("tone", "plain")
        return {"text": f"{tone} words about {context.workflow_input()['topic']}"}


@hatchet.evaluator("mentions_topic", workflow=Graded)
async def mentions_topic(input: dict, output: dict, _expected: object) -> tuple[float, str]:
    found = input["topic"] in output["text"]
    return (1.0, f"mentions {input['topic']}") if found else (0.0, "the topic is missing")


@hatchet.evaluator("matches_expected", workflow=Graded, step="answer")
def matches_expected(_input: dict, output: dict, expected: object, metadata: dict) -> dict:
    return {"score": output == expected, "reason": f"checked for {metadata['evaluator']}"}


@hatchet.evaluator("crashes", workflow=Graded)
def crashes(_input: dict, _output: dict, _expected: object) -> float:
    raise RuntimeError("the grader is out of ink")


@hatchet.evaluator("overflows", workflow=Graded)
def overflows(_input: dict, _output: dict, _expected: object) -> float:
    return 1.5


@hatchet.workflow()
class Sized:
    """An output of `bytes` x's; with `release` (a path), only once that file exists."""

    @hatchet.step(timeout="60s", retries=2)
    def emit(self, context: Context) -> dict:
        release = context.workflow_input().get("release")
        if release:
            mark(context, "started")
            while not Path(release).exists():
                time.sleep(0.05)
            mark(context, "released")
        return {"text": "x" * context.workflow_input()["bytes"]}


def echo(context: Context) -> dict:
    return {"input": context.workflow_input(), "metadata": context.additional_metadata()}


@hatchet.workflow(on_events=["e2e:order:placed"])
class OrderPlaced:
    @hatchet.step()
    def echo(self, context: Context) -> dict:
        return echo(context)


@hatchet.workflow(on_events=["e2e:order:*"])
class AnyOrder:
    @hatchet.step()
    def echo(self, context: Context) -> dict:
        return echo(context)


@hatchet.workflow(on_events=["e2e:user:created"])
class UserCreated:
    @hatchet.step()
    def echo(self, context: Context) -> dict:
        return echo(context)


# Declared yearly, so that it never fires during the tests; they add a cron of their own.
@hatchet.workflow()
class Child:
    @hatchet.step(retries=0)
    def work(self, context: Context) -> dict:
        given = context.workflow_input()
        mark(context, "child")
        if given.get("fail"):
            raise NonRetryableError(f"child {given['n']} refused")
        seconds = given.get("seconds", 0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not context.cancelled.is_set():
            time.sleep(0.05)
        if context.cancelled.is_set():
            mark(context, "child-stopped")
        return {"square": given["n"] ** 2}


@hatchet.workflow()
class Parent:
    """Spawns `n` children in one call and sums their squares; a sync step that holds its
    slot while it waits. With `crash_once`, its first attempt fails after spawning."""

    @hatchet.step(retries=1, backoff={"initial": "1s", "factor": 1, "max": "1s"}, timeout="120s")
    def fan(self, context: Context) -> dict:
        given = context.workflow_input()
        children = context.spawn_workflows(
            [
                Spawn("Child", {"n": n, "markers": given.get("markers"), **given.get("child", {})})
                for n in range(given["n"])
            ]
        )
        if given.get("crash_once") and context.retry_count == 0:
            raise RuntimeError("crashed after spawning")
        outputs = context.wait_for_children(children)
        return {"sum": sum(output["work"]["square"] for output in outputs)}


@hatchet.workflow()
class DurableParent:
    """An async durable step: awaits one child, catches another's failure, and waits
    for slow children without holding its slot."""

    @hatchet.step(durable=True, timeout="60s")
    async def fan(self, context: Context) -> dict:
        given = context.workflow_input()
        markers = given.get("markers")
        good, bad = await context.aio_spawn_workflows(
            [("Child", {"n": 3, "markers": markers}), ("Child", {"n": 4, "fail": True})]
        )
        first = await good.aio_result()
        try:
            await bad.aio_result()
            caught = ""
        except ChildWorkflowFailed as failure:
            caught = failure.error
        slow = await context.aio_spawn_workflows(
            [
                Spawn("Child", {"n": n, "seconds": given.get("seconds", 0), "markers": markers})
                for n in range(given.get("slow", 0))
            ]
        )
        outputs = await context.aio_wait_for_children(slow)
        return {
            "first": first["work"]["square"],
            "caught": caught,
            "slow": [output["work"]["square"] for output in outputs],
        }


@hatchet.workflow()
class DurableSleeper:
    @hatchet.step(durable=True, timeout="30s")
    def nap(self, context: Context) -> dict:
        given = context.workflow_input()
        mark(context, "before-sleep")
        context.sleep_for(given["seconds"])
        mark(context, "after-sleep")
        if given.get("work_seconds"):
            time.sleep(given["work_seconds"])
        return {"woke": True}


@hatchet.workflow()
class Approval:
    @hatchet.step(durable=True)
    def decide(self, context: Context) -> dict:
        given = context.workflow_input()
        try:
            event = context.wait_for_event(
                "e2e:approval",
                {"ticket": given["ticket"]},
                lookback=given.get("lookback"),
                timeout=given.get("timeout"),
            )
        except WaitTimedOut:
            return {"approved_by": None}
        return {"approved_by": event["payload"]["by"]}


@hatchet.workflow()
class Fickle:
    """Not deterministic: the second time it runs it sleeps for another length."""

    @hatchet.step(durable=True)
    def nap(self, context: Context) -> dict:
        seen = Path(context.workflow_input()["markers"]) / "fickle-ran"
        seconds = 2 if seen.exists() else 1
        seen.write_text("")
        context.sleep_for(seconds)
        return {"slept": seconds}


@hatchet.workflow(on_crons=["0 0 1 1 *"])
class Ticked:
    @hatchet.step()
    def echo(self, context: Context) -> dict:
        return echo(context)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="e2e-worker")
    parser.add_argument("--slots", type=int, default=5)
    args = parser.parse_args()
    global WORKER
    trace_if_asked()
    labels = json.loads(os.environ.get("E2E_WORKER_LABELS") or "{}")
    worker = WORKER = hatchet.worker(args.name, max_runs=args.slots, labels=labels)
    for workflow in (
        FanOut(),
        AlwaysFails(),
        Refund(),
        Sleepy(),
        Waits(),
        Quick(),
        Urgent(),
        PerCustomer(),
        PerCustomerStep(),
        AccountCharge(),
        AccountRefund(),
        RateLimited(),
        PerUserLimited(),
        GpuOnly(),
        Relabel(),
        StickyPair(),
        SlowOnce(),
        Overrun(),
        Streams(),
        PlaygroundChain(),
        Graded(),
        Sized(),
        OrderPlaced(),
        AnyOrder(),
        UserCreated(),
        Ticked(),
        Child(),
        Parent(),
        DurableParent(),
        DurableSleeper(),
        Approval(),
        Fickle(),
        Traced(),
    ):
        worker.register_workflow(workflow)
    for evaluator in (mentions_topic, matches_expected, crashes, overflows):
        worker.register_evaluator(evaluator)
    worker.start()


if __name__ == "__main__":
    main()
