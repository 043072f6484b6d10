"""The workflows the end-to-end tests run, served by a real SDK worker process.

Usage: python -m tests.e2e.worker_app --name NAME --slots N
Steps that must be observed from outside write marker files named in their input.
"""

import argparse
import asyncio
import os
import time
from pathlib import Path

from hatchet.sdk import Context, Hatchet

hatchet = Hatchet()


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
        started = time.time()
        time.sleep(float(context.workflow_input().get("seconds", 0.02)))
        return {"started": started, "finished": time.time(), "pid": os.getpid()}


@hatchet.workflow()
class SlowOnce:
    @hatchet.step(timeout="60s")
    def work(self, context: Context) -> dict:
        mark(context, "started")
        time.sleep(float(context.workflow_input().get("seconds", 3)))
        mark(context, "finished")
        return {"pid": os.getpid(), "attempt": context.attempt}


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="e2e-worker")
    parser.add_argument("--slots", type=int, default=5)
    args = parser.parse_args()
    worker = hatchet.worker(args.name, max_runs=args.slots)
    for workflow in (FanOut(), AlwaysFails(), Sleepy(), Waits(), Quick(), SlowOnce(), Streams()):
        worker.register_workflow(workflow)
    worker.start()


if __name__ == "__main__":
    main()
