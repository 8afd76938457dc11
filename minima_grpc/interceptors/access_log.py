"""One structured log line per call: method, code, duration_ms, peer, request_id.

Only those fields are logged: never metadata, so bearer keys cannot leak. The
record carries them in `record.fields`; the CLI's JSON formatter renders them.
"""

from __future__ import annotations

import logging

import grpc

from minima_grpc.interceptors._base import Call, CompletionInterceptor
from minima_grpc.interceptors.context import current_request_id

_log = logging.getLogger("minima.access")


class AccessLogInterceptor(CompletionInterceptor):
    def completed(self, call: Call, code: grpc.StatusCode, elapsed_s: float) -> None:
        if not _log.isEnabledFor(logging.INFO):
            return
        fields = {
            "method": call.method,
            "code": code.name,
            "duration_ms": round(elapsed_s * 1000, 3),
            "peer": call.context.peer(),
            "request_id": current_request_id(),
        }
        _log.info("%s %s", call.method, code.name, extra={"fields": fields})
