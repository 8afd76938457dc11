"""Per-call values the interceptors set and inner layers read.

All interceptors and the handler of one call run in the same task, so a value
set by an outer interceptor is visible to everything inside it, and no call
sees another's.
"""

from __future__ import annotations

from contextvars import ContextVar

from minima_grpc.auth.protocol import Principal

_request_id: ContextVar[str | None] = ContextVar("minima_request_id", default=None)
_principal: ContextVar[Principal | None] = ContextVar("minima_principal", default=None)


def current_request_id() -> str | None:
    """The request id of the call being served (None outside a call)."""
    return _request_id.get()


def current_principal() -> Principal | None:
    """Who the call's bearer key belongs to; None when unauthenticated (health probes)."""
    return _principal.get()


def set_request_id(request_id: str) -> None:
    _request_id.set(request_id)


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)
