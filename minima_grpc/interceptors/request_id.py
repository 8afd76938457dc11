"""Outermost interceptor: give every call a request id and echo it to the client.

A client's `x-request-id` is kept when it looks like an id (so it can be
correlated across services); anything else is replaced, so a header cannot
smuggle text into the logs. The id goes back in the initial metadata, sent
before the handler runs so even a failed call carries it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from minima_grpc.interceptors._base import AroundInterceptor, Call
from minima_grpc.interceptors.context import set_request_id

HEADER = "x-request-id"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _incoming(call: Call) -> str | None:
    for key, value in call.context.invocation_metadata() or ():
        if key == HEADER and isinstance(value, str) and _ACCEPTABLE.match(value):
            return value
    return None


class RequestIdInterceptor(AroundInterceptor):
    async def around(self, call: Call) -> Any:
        request_id = _incoming(call) or uuid.uuid4().hex
        set_request_id(request_id)
        await call.context.send_initial_metadata(((HEADER, request_id),))
        return await call.proceed()
