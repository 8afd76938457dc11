"""One structured log line per call: method, code, duration_ms, peer, request_id.

Only those fields are logged: never metadata, so bearer keys cannot leak. The
record carries them in `record.fields`; the CLI's JSON formatter renders them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import grpc

from minima_grpc.interceptors._base import AroundInterceptor, Call, final_code
from minima_grpc.interceptors.context import current_request_id

_log = logging.getLogger("minima.access")


class AccessLogInterceptor(AroundInterceptor):
    async def around(self, call: Call) -> Any:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return await call.proceed()
        except BaseException as exc:
            error = exc
            raise
        finally:
            if _log.isEnabledFor(logging.INFO):
                _write(call, final_code(call.context, error), time.perf_counter() - started)


def _write(call: Call, code: grpc.StatusCode, elapsed_s: float) -> None:
    fields = {
        "method": call.method,
        "code": code.name,
        "duration_ms": round(elapsed_s * 1000, 3),
        "peer": call.context.peer(),
        "request_id": current_request_id(),
    }
    _log.info("%s %s", call.method, code.name, extra={"fields": fields})
