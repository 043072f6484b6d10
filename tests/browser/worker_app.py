"""The worker of the browser tests: the example support reply (its prompt is what the
product manager edits), an import whose second step fails on its first attempt (what
the developer debugs and retries), a summary that takes a unit of a rate limit, and a
durable digest that spawns an excerpt per text, waits for an approval and sleeps."""

import sys

from examples.support_reply import SupportReply, hatchet
from hatchet.sdk import Context, RateLimit, Spawn


@hatchet.workflow()
class NightlyImport:
    @hatchet.step()
    def fetch(self, context: Context) -> dict:
        context.log("fetched 3 rows")
        return {"rows": [1, 2, 3]}

    @hatchet.step(parents=["fetch"])
    def load(self, context: Context) -> dict:
        rows = context.step_output("fetch")["rows"]
        if context.attempt == 1:
            raise ConnectionError("warehouse refused the connection: too many clients")
        context.log(f"loaded {len(rows)} rows")
        return {"loaded": len(rows)}


@hatchet.workflow()
class Summarize:
    @hatchet.step(rate_limits=[RateLimit(key="llm-calls")])
    def call(self, context: Context) -> dict:
        return {"summary": str(context.workflow_input().get("text", ""))[:20]}


@hatchet.workflow()
class Excerpt:
    @hatchet.step()
    def cut(self, context: Context) -> dict:
        return {"excerpt": str(context.workflow_input().get("text", ""))[:20]}


@hatchet.workflow()
class Digest:
    @hatchet.step(durable=True, timeout="60s")
    def collect(self, context: Context) -> dict:
        texts = context.workflow_input()["texts"]
        children = context.spawn_workflows([Spawn("Excerpt", {"text": text}) for text in texts])
        summaries = [output["cut"]["excerpt"] for output in context.wait_for_children(children)]
        approval = context.wait_for_event(
            "digest:approved", {"digest": context.workflow_input()["id"]}
        )
        context.sleep_for("1h")
        return {"summaries": summaries, "approved_by": approval["payload"].get("by")}


def main() -> None:
    worker = hatchet.worker(sys.argv[1] if len(sys.argv) > 1 else "browser-worker", max_runs=10)
    worker.register_workflow(SupportReply())
    worker.register_workflow(NightlyImport())
    worker.register_workflow(Summarize())
    worker.register_workflow(Excerpt())
    worker.register_workflow(Digest())
    worker.start()


if __name__ == "__main__":
    main()
