"""A loopback ``POST /ask`` API for the evaluation runner's tests and its benchmark: a real HTTP server
in a thread that answers like the RAG API, can throttle like API Gateway's stage limit (429 with
``Retry-After``) and can fail chosen requests with 503, and records every request it received."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[str, str], dict[str, Any]]


def default_answer(question: str, mode: str) -> dict[str, Any]:
    citations = (
        [] if mode == "prompt" else [{"sourceUri": "s3://docs/docs/handbook/leave.md", "excerpt": "27 days"}]
    )
    return {
        "answer": f"Answer to {question} [1]" if citations else f"Answer to {question}",
        "citations": citations,
        "grounded": bool(citations),
        "mode": mode,
        "modelId": "us.amazon.nova-lite-v1:0",
        "usage": {"inputTokens": 1000, "outputTokens": 100},
        "latencyMs": {"retrieve": 1, "generate": 1, "total": 2},
        "guardrail": {"action": "NONE"},
        "truncated": False,
    }


@dataclass
class LoopbackApi:
    url: str = ""
    answer: Answer = default_answer
    rate_per_second: int | None = None
    """Throttle like API Gateway: more than this many accepted requests in one second get a 429."""
    retry_after: str | None = "1"
    failures: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """(question, mode) -> statuses to answer with, one per request, before answering normally."""
    delay_s: float = 0.0
    received: list[tuple[str, str]] = field(default_factory=list)
    """(question, mode) of every request, throttled ones included."""
    answered: list[tuple[str, str]] = field(default_factory=list)
    """(question, mode) of every request answered with 200."""
    throttled: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    """Every request body as received."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _accepted: deque[float] = field(default_factory=deque)

    def handle(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        key = (body["question"], body["mode"])
        with self._lock:
            self.bodies.append(body)
            self.received.append(key)
            queued = self.failures.get(key)
            if queued:
                status = queued.pop(0)
                headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                return status, headers, {"error": {"code": "UpstreamUnavailable", "message": "try later"}}
            if self.rate_per_second is not None:
                now = time.monotonic()
                while self._accepted and now - self._accepted[0] >= 1.0:
                    self._accepted.popleft()
                if len(self._accepted) >= self.rate_per_second:
                    self.throttled += 1
                    headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                    return 429, headers, {"message": "Too Many Requests"}
                self._accepted.append(now)
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.answered.append(key)
        answer = self.answer(*key)
        # Like the RAG API, the answer names the model the request chose.
        return 200, {}, {**answer, "modelId": body["modelId"]} if "modelId" in body else answer


@contextmanager
def serve(api: LoopbackApi) -> Iterator[LoopbackApi]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            status, headers, payload = api.handle(json.loads(self.rfile.read(length)))
            raw = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}/prod/ask"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
