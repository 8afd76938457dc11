"""Prometheus metrics per method: calls by status code, and a latency histogram.

Each server owns a ServerMetrics with its own registry (so several servers in
one process, as in tests, do not collide); the REST adapter serves it on
/metrics through `render`.
"""

from __future__ import annotations

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from minima_grpc.interceptors._base import Call, CompletionInterceptor

# Seconds; dense below 100 ms where recommendations should land.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by method and status code.",
            ["grpc_service", "grpc_method", "grpc_code"],
            registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from receiving an RPC to its completion, by method.",
            ["grpc_service", "grpc_method"],
            buckets=_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, and its Content-Type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsInterceptor(CompletionInterceptor):
    def __init__(self, metrics: ServerMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def completed(self, call: Call, code: grpc.StatusCode, elapsed_s: float) -> None:
        self._metrics.handled.labels(call.service, call.method_name, code.name).inc()
        self._metrics.handling_seconds.labels(call.service, call.method_name).observe(elapsed_s)
