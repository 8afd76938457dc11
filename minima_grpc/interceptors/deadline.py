"""Server-side deadline: a default for calls that set none, and a cap on all.

The call runs under `asyncio.timeout(budget)`; when it fires the handler (and
the engine work it awaits) is cancelled and the client gets DEADLINE_EXCEEDED
with an ErrorInfo, not a generic error. Streaming calls (health Watch,
reflection) are long-lived by design and are left alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minima_grpc import errors
from minima_grpc.interceptors._base import AroundInterceptor, Call
from minima_grpc.interceptors.context import current_request_id


class DeadlineInterceptor(AroundInterceptor):
    def __init__(self, default_s: float, max_s: float) -> None:
        super().__init__()
        self._default_s = default_s
        self._max_s = max_s

    def budget(self, client_remaining_s: float | None) -> float:
        requested = self._default_s if client_remaining_s is None else client_remaining_s
        return max(0.0, min(requested, self._max_s))

    async def around(self, call: Call) -> Any:
        if not call.unary:
            return await call.proceed()
        budget = self.budget(call.context.time_remaining())
        try:
            async with asyncio.timeout(budget):
                return await call.proceed()
        except TimeoutError:
            # Only our own timeout gets here: errors raised inside were already
            # turned into statuses by the exceptions interceptor.
            seconds = f"{budget:.3g}"
            exceeded = errors.DeadlineExceededError(
                f"deadline of {seconds}s exceeded", metadata={"deadlineSeconds": seconds}
            )
            await errors.abort(call.context, exceeded, current_request_id())
