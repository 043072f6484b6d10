"""The example worker: a three-step support reply whose first step exposes its prompt.

With OPENAI_API_KEY set (and optionally OPENAI_BASE_URL), `draft` asks the OpenAI
API; without it, an offline responder writes a canned reply, clearly labelled, so the
example runs with no key and no network.

It needs only a worker token (HATCHET_TOKEN from `manage.py create_api_token --role
worker`; `make dev` gives it `.hatchet/worker-token`): it registers SupportReply and
its code evaluator `concise`, and serves their steps, nothing else.
"""

import os
import time
from collections.abc import Iterator

from hatchet.sdk import Context, Evaluation, Hatchet

hatchet = Hatchet()

OFFLINE_LABEL = "[offline responder]"
# A reply a customer reads at a glance; longer ones score less.
CONCISE_WORDS = 40


def offline_reply(system_prompt: str, ticket: str) -> Iterator[str]:
    """A deterministic stand-in for a model, streamed word by word like one."""
    tone = "Briefly" if "brief" in system_prompt.lower() else "Thanks for reaching out"
    reply = (
        f"{OFFLINE_LABEL} {tone}: we received your message about "
        f'"{ticket[:80]}" and a teammate will follow up within one business day.'
    )
    for word in reply.split(" "):
        time.sleep(0.02)
        yield word + " "


def openai_reply(
    context: Context, model: str, system_prompt: str, ticket: str, temperature: float
) -> Iterator[str]:
    from openai import OpenAI

    client = OpenAI()  # reads OPENAI_API_KEY and OPENAI_BASE_URL
    stream = client.chat.completions.create(
        model=model,
        temperature=temperature,
        stream=True,
        stream_options={"include_usage": True},
        messages=[
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": ticket},
        ],
    )
    for chunk in stream:
        if chunk.usage is not None:
            context.usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens, model)
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


@hatchet.workflow(on_events=["ticket:created"], timeout="10m")
class SupportReply:
    @hatchet.step(timeout="2m", retries=2)
    def classify(self, context: Context) -> dict:
        ticket = context.workflow_input().get("ticket", "")
        urgent = any(word in ticket.lower() for word in ("urgent", "down", "outage"))
        context.log(f"classified as {'urgent' if urgent else 'normal'}")
        return {"priority": "urgent" if urgent else "normal"}

    @hatchet.step(parents=["classify"], timeout="2m", retries=1)
    def draft(self, context: Context) -> dict:
        system_prompt = context.playground(
            "system_prompt", "You are a friendly support agent. Answer in two sentences."
        )
        temperature = context.playground("temperature", 0.3)
        model = context.playground("model", "gpt-4o-mini")
        ticket = context.workflow_input().get("ticket", "")
        is_online = bool(os.environ.get("OPENAI_API_KEY"))
        if is_online:
            tokens = openai_reply(context, model, system_prompt, ticket, temperature)
        else:
            tokens = offline_reply(system_prompt, ticket)
        parts = []
        for token in tokens:
            context.put_stream(token)
            parts.append(token)
        if not is_online:
            # Words for tokens, so that a comparison shows what a prompt costs offline too.
            context.usage(len(f"{system_prompt} {ticket}".split()), len(parts), "offline")
        context.log("drafted reply")
        return {"reply": "".join(parts).strip()}

    @hatchet.step(parents=["classify", "draft"])
    async def review(self, context: Context) -> dict:
        reply = context.step_output("draft")["reply"]
        priority = context.step_output("classify")["priority"]
        return {"ok": bool(reply), "reply": reply, "priority": priority}


@hatchet.evaluator("concise", workflow=SupportReply, step="draft")
def concise(_input: dict, output: dict, _expected: object) -> Evaluation:
    """Full marks up to CONCISE_WORDS words, then less the longer the reply; run by this
    worker each time the playground scores a cell with it."""
    words = len(str(output.get("reply", "")).split())
    if not words:
        return Evaluation(0.0, "the reply is empty")
    return Evaluation(min(1.0, CONCISE_WORDS / words), f"{words} words (aim: {CONCISE_WORDS})")


def main() -> None:
    worker = hatchet.worker("support-worker", max_runs=10)
    worker.register_workflow(SupportReply())
    worker.register_evaluator(concise)
    worker.start()


if __name__ == "__main__":
    main()
