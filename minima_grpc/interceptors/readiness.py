"""Refuse API calls until the engine has started (health and reflection still answer).

The gRPC server listens before the engine warms up so probes can see
NOT_SERVING; calls that would reach a half-started engine get UNAVAILABLE
(reason NOT_SERVING) instead.
"""

from __future__ import annotations

from typing import Any

from minima_grpc import v1
from minima_grpc.errors import NotServingError
from minima_grpc.interceptors._base import AroundInterceptor, Call

_API_PREFIX = f"/{v1.SERVICE_NAME}/"


class ServingGate:
    """Closed until the server opens it after the engine's start() returned."""

    def __init__(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        self._open = True


class ReadinessInterceptor(AroundInterceptor):
    def __init__(self, gate: ServingGate) -> None:
        super().__init__()
        self._gate = gate

    async def around(self, call: Call) -> Any:
        if not self._gate.is_open and call.method.startswith(_API_PREFIX):
            raise NotServingError("the service is starting; retry shortly")
        return await call.proceed()
