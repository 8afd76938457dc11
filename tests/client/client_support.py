"""Support for the client tests: loopback HTTP servers, spec-shaped sample
bodies, and a runner that drives the sync or the async client.

`FakeHttp` is a real HTTP server (stdlib, 127.0.0.1, port 0) answering from a
route table and recording every request. It stands in for what cannot run in
a unit test: an upstream that fails on cue (503s, 4xx, garbage), the OpenAI
and Anthropic APIs, and Mubit's learn routes.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from minima_client import AsyncMinimaClient, MinimaClient

API_KEY = "mbt_testorg_k1_secret"
# Retry fast in tests; the policy itself is what is under test, not the wait.
FAST = {"max_retries": 2, "backoff": 0.001}


class Runner:
    """Calls one client method on a fresh sync or async client."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __call__(
        self,
        base_url: str,
        method: str,
        *args: Any,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        opts = {"timeout": 5.0, **FAST, **(options or {})}
        if self.mode == "sync":
            with MinimaClient(base_url, API_KEY, **opts) as client:
                return getattr(client, method)(*args, **kwargs)

        async def go() -> Any:
            async with AsyncMinimaClient(base_url, API_KEY, **opts) as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(go())


@dataclass(frozen=True)
class LiveServer:
    """A real `minima serve` (embedded memory) and a key for it."""

    rest_url: str
    grpc_url: str
    api_key: str


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Route = Callable[[Recorded], Reply]


class FakeHttp:
    """A recording HTTP server; `routes` maps (method, path) to a handler."""

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.log: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                request = Recorded(
                    self.command,
                    url.path,
                    parse_qsl(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake._lock:
                    fake.log.append(request)
                route = fake.routes.get((self.command, url.path))
                reply = route(request) if route else Reply(404, {"error": "no route"})
                data = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

        return Handler

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    def __enter__(self) -> FakeHttp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sequence(*replies: Reply) -> Route:
    """A route answering with `replies` in order, repeating the last one."""
    remaining = list(replies)

    def route(_: Recorded) -> Reply:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return route


def problem(status: int, title: str, detail: str, **extra: Any) -> Reply:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Reply(status, body, {"x-request-id": "rid-from-server"}, "application/problem+json")


# -- a provider API ----------------------------------------------------------------


def chat_completion(request: Recorded) -> Reply:
    """OpenAI's chat completion answer, for the model asked, with cached tokens."""
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": f"{request.body['model']}-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Three bullets."},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": 1000,
                "completion_tokens": 500,
                "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 200},
            },
        }
    )


# -- spec-shaped bodies (the documented fields, with documented nulls) ------------


def ranked(model_id: str, provider: str, cost: float, **overrides: Any) -> dict[str, Any]:
    body = {
        "model_id": model_id,
        "provider": provider,
        "predicted_success": 0.86,
        "est_cost_usd": cost,
        "est_cost_breakdown": {"input": cost / 4, "output": cost * 3 / 4},
        "score": 0.71,
        "rationale": f"prior 0.86 clears 0.80; est cost ${cost}",
        "decision_basis": "prior",
        "evidence": [
            {
                "entry_id": "e1",
                "reference_id": None,
                "model_id": model_id,
                "score": 0.83,
                "knowledge_confidence": 0.7,
                "observed_success": 0.9,
                "is_stale": False,
            }
        ],
        "supports_prompt_caching": True,
        "context_window": 128000,
    }
    return {**body, **overrides}


def recommend_body(rec_id: str = "rec-1") -> dict[str, Any]:
    cheap = ranked("gpt-4o-mini", "openai", 0.0004)
    strong = ranked("claude-sonnet-4-6", "anthropic", 0.0096, score=0.52)
    return {
        "recommendation_id": rec_id,
        "recommended_model": cheap,
        "ranked": [cheap, strong],
        "fallback_model": None,
        "confidence": 0.62,
        "decision_basis": "prior",
        "threshold_used": 0.8,
        "classified_task_type": "summarization",
        "classified_difficulty": "easy",
        "catalog_version": "test-1",
        "catalog_stale": False,
        "latency_ms": 3,
        "warnings": ["cold_start"],
    }


def workflow_body() -> dict[str, Any]:
    return {
        "workflow_recommendation_id": "wf-1",
        "steps": [
            {"step_id": "extract", "recommendation": recommend_body("rec-a")},
            {"step_id": "reason", "recommendation": recommend_body("rec-b")},
        ],
        "total_est_cost_usd": 0.0008,
        "total_est_cost_if_all_premium": 0.0192,
        "confidence": 0.62,
    }


def feedback_body(accepted: bool = True) -> dict[str, Any]:
    return {
        "accepted": accepted,
        "record_id": "r-1" if accepted else None,
        "reinforced_entry_ids": ["e1"] if accepted else [],
        "updated_confidence": 0.74 if accepted else None,
        "reflection_triggered": False,
        "lesson_promoted": False,
        "warnings": [] if accepted else ["unknown_recommendation"],
    }


def models_body() -> dict[str, Any]:
    card = {
        "model_id": "gpt-4o-mini",
        "provider": "openai",
        "display_name": "GPT-4o mini",
        "input_cost_per_mtok": 0.15,
        "output_cost_per_mtok": 0.6,
        "cache_read_cost_per_mtok": 0.075,
        "supports_prompt_caching": True,
        "context_window": 128000,
        "max_output_tokens": 16384,
        "capability_priors": {"intelligence_index": 0.45},
        "capability_by_task_type": {"code": 0.68, "summarization": 0.84},
        "cost_source": "litellm-snapshot",
        "cost_fetched_at": "2026-07-22T00:00:00Z",
        "cost_stale": False,
        "capability_source": "benchmark-priors:test",
    }
    haiku = {
        **card,
        "model_id": "claude-haiku-4-5",
        "provider": "anthropic",
        "display_name": "Claude Haiku 4.5",
        "input_cost_per_mtok": 1.0,
        "output_cost_per_mtok": 5.0,
        "cache_read_cost_per_mtok": None,
        "max_output_tokens": None,
        "cost_fetched_at": None,
    }
    return {
        "models": [card, haiku],
        "catalog_version": "test-1",
        "refreshed_at": None,
        "stale": True,
    }


def strategies_body() -> dict[str, Any]:
    return {
        "namespace": "team-payments",
        "lane": "minima:team-payments",
        "strategies": [
            {
                "strategy_id": "st1",
                "description": "prefer haiku for code:hard",
                "supporting_lesson_count": 3,
                "avg_confidence": 0.7,
                "avg_reinforcement": 2.0,
                "dominant_lesson_type": "success",
                "dominant_scope": "session",
                "lesson_ids": ["l1", "l2", "l3"],
            }
        ],
        "count": 1,
    }


def health_body() -> dict[str, Any]:
    return {
        "status": "ok",
        "memory": {"reachable": True, "latency_ms": 12},
        "catalog": {"version": "test-1", "stale": False, "models": 2},
        "version": "0.1.0",
    }


def minima_routes() -> dict[tuple[str, str], Route]:
    """A fake Minima REST API answering every documented route with a sample."""
    return {
        ("POST", "/v1/recommend"): lambda _: Reply(body=recommend_body()),
        ("POST", "/v1/recommend/workflow"): lambda _: Reply(body=workflow_body()),
        ("POST", "/v1/feedback"): lambda _: Reply(body=feedback_body()),
        ("GET", "/v1/models"): lambda _: Reply(body=models_body()),
        ("GET", "/v1/strategies"): lambda _: Reply(body=strategies_body()),
        ("GET", "/v1/health"): lambda _: Reply(body=health_body()),
    }
