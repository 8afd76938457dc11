"""Innermost error boundary: any exception from the handler becomes a google.rpc.Status.

Mapping lives in minima_grpc/errors.py; this only makes sure nothing escapes
unconverted (grpc would otherwise send the exception text to the client).
"""

from __future__ import annotations

from typing import Any

import grpc

from minima_grpc import errors
from minima_grpc.interceptors._base import AroundInterceptor, Call
from minima_grpc.interceptors.context import current_request_id


class ExceptionsInterceptor(AroundInterceptor):
    async def around(self, call: Call) -> Any:
        try:
            return await call.proceed()
        except grpc.aio.AbortError:  # the handler already chose a status
            raise
        except Exception as exc:
            await errors.abort(call.context, exc, current_request_id())
