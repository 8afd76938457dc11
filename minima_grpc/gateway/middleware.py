"""Two small ASGI middlewares that wrap every HTTP response of the gateway.

RequestIdMiddleware picks the request id (headers.request_id), puts it in
`scope["state"]["request_id"]` for the handlers and echoes that entry as
`x-request-id`. MetricsMiddleware counts requests and times them by route
template (never the raw path, so the label set stays small).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minima_grpc.gateway.headers import request_id

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = request_id(Headers(scope=scope))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Read at answer time: a handler may adopt the server's id.
                echo = (b"x-request-id", state["request_id"].encode("ascii"))
                message["headers"] = [*message.get("headers", ()), echo]
            await send(message)

        await self.app(scope, receive, send_with_id)


class HttpMetrics:
    """The gateway's own series, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "minima_http_requests",
            "HTTP requests answered by the REST gateway.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "minima_http_request_duration_seconds",
            "Time from request to the end of the response, by route.",
            ["route", "method"],
            registry=registry,
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app dies before answering

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.requests.labels(label, method, str(status)).inc()
            self.metrics.latency.labels(label, method).observe(time.perf_counter() - started)
