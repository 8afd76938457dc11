"""Server interceptors and their fixed order.

grpc.aio runs interceptors in list order, the first one outermost:

1. request id   accept or make `x-request-id`; echo it in initial metadata
2. access log   one JSON line per call (sees the final code of everything inside)
3. metrics      per-method counts by code and latency histograms
4. auth         bearer key -> principal (health, reflection exempt; GetHealth optional)
5. deadline     server default and cap -> DEADLINE_EXCEEDED
6. exceptions   any exception from inside -> google.rpc.Status (minima_grpc/errors.py)
7. readiness    UNAVAILABLE until the engine has started (raises into 6)
"""

from __future__ import annotations

import grpc

from minima_grpc.auth.protocol import Authenticator
from minima_grpc.config import Config
from minima_grpc.interceptors.access_log import AccessLogInterceptor
from minima_grpc.interceptors.auth import AuthInterceptor
from minima_grpc.interceptors.deadline import DeadlineInterceptor
from minima_grpc.interceptors.exceptions import ExceptionsInterceptor
from minima_grpc.interceptors.metrics import MetricsInterceptor, ServerMetrics
from minima_grpc.interceptors.readiness import ReadinessInterceptor, ServingGate
from minima_grpc.interceptors.request_id import RequestIdInterceptor

__all__ = ["ServerMetrics", "ServingGate", "build_interceptors"]


def build_interceptors(
    config: Config, authenticator: Authenticator, metrics: ServerMetrics, gate: ServingGate
) -> list[grpc.aio.ServerInterceptor]:
    return [
        RequestIdInterceptor(),
        AccessLogInterceptor(),
        MetricsInterceptor(metrics),
        AuthInterceptor(authenticator),
        DeadlineInterceptor(config.default_deadline_s, config.max_deadline_s),
        ExceptionsInterceptor(),
        ReadinessInterceptor(gate),
    ]
