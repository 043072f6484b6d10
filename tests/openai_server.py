"""A loopback OpenAI: the Chat Completions API (POST /v1/chat/completions), answering
JSON or, with `stream: true`, server-sent events, as the real `openai` client expects;
with scripted answers, rate limits (429 with Retry-After) and every request kept."""

import json
import time
from dataclasses import dataclass
from typing import Any

from tests.loopback import LoopbackServer, QuietHandler

API_KEY = "sk-loopback-key"
DEFAULT_ANSWER = '{"score": 1, "reason": "Meets the rubric."}'


@dataclass(frozen=True)
class SeenRequest:
    path: str
    body: Any
    authorization: str
    at: float  # time.monotonic() on arrival


class LoopbackOpenAI(LoopbackServer):
    """Answers each completion with the next scripted content (DEFAULT_ANSWER when none
    is left), after any scripted rate limits. Token counts are words: a prompt's in its
    messages, a completion's in its content."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.answers: list[str] = []
        self.rate_limits: list[str] = []
        self.requests: list[SeenRequest] = []
        super().__init__(handler_for(self))

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    def answer_with(self, *contents: str) -> None:
        with self.lock:
            self.answers.extend(contents)

    def rate_limit(self, retry_after: str, times: int = 1) -> None:
        """Answer the next `times` requests 429 with this Retry-After header."""
        with self.lock:
            self.rate_limits.extend([retry_after] * times)

    def next_rate_limit(self) -> str | None:
        with self.lock:
            return self.rate_limits.pop(0) if self.rate_limits else None

    def next_answer(self) -> str:
        with self.lock:
            return self.answers.pop(0) if self.answers else DEFAULT_ANSWER

    def completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-loopback-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage_of(body, content),
        }

    def stream_events(self, body: dict[str, Any], content: str) -> bytes:
        """The completion word by word as chunks, a last chunk with the finish reason,
        the usage when stream_options ask for it, then [DONE]."""
        base = {
            "id": f"chatcmpl-loopback-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", ""),
        }
        words = content.split(" ")
        pieces = [word if i == 0 else f" {word}" for i, word in enumerate(words)]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
            for p in pieces
        ]
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**base, "choices": [], "usage": usage_of(body, content)})
        events = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
        return ("".join(events) + "data: [DONE]\n\n").encode()


def words_in(text: str) -> int:
    return len(text.split())


def usage_of(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt = sum(words_in(str(m.get("content") or "")) for m in body.get("messages", []))
    completion = words_in(content)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def error_body(message: str, kind: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def handler_for(openai: LoopbackOpenAI) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.read_json() or {}
            authorization = self.headers.get("Authorization", "")
            with openai.lock:
                openai.requests.append(
                    SeenRequest(self.path, body, authorization, time.monotonic())
                )
            if authorization != f"Bearer {openai.api_key}":
                message = "Incorrect API key provided."
                self.send_json(401, error_body(message, "invalid_request_error", "invalid_api_key"))
                return
            if self.path != "/v1/chat/completions":
                self.send_json(404, error_body("Unknown path.", "invalid_request_error", "404"))
                return
            retry_after = openai.next_rate_limit()
            if retry_after is not None:
                limited = error_body(
                    "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
                )
                self.send_json(429, limited, {"Retry-After": retry_after})
                return
            content = openai.next_answer()
            if body.get("stream"):
                self.send_bytes(200, openai.stream_events(body, content), "text/event-stream")
            else:
                self.send_json(200, openai.completion(body, content))

    return Handler
