"""Bearer-key authentication (`authorization: Bearer <key>`).

Health checking and reflection are exempt (orchestrators and grpcurl call them
without keys). GetHealth takes a key optionally: a valid one gives the handler
a principal (so it can probe that tenant's memory), a missing or invalid one
just leaves it unauthenticated. Every other method requires a valid key.
"""

from __future__ import annotations

from typing import Any

from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from minima_grpc import errors, v1
from minima_grpc.auth.protocol import Authenticator, Principal
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.interceptors._base import AroundInterceptor, Call
from minima_grpc.interceptors.context import current_request_id, set_principal

# Method prefixes served without a key.
EXEMPT_PREFIXES: tuple[str, ...] = (
    f"/{health.SERVICE_NAME}/",
    "/" + reflection.SERVICE_NAME.rsplit(".", 2)[0] + ".",  # any grpc.reflection version
)
# Methods where a key is optional.
KEY_OPTIONAL = frozenset({v1.method_path("GetHealth")})


def bearer_token(metadata: Any) -> str:
    """The key from `authorization: Bearer <key>`; raises Unauthenticated when absent."""
    values = [value for key, value in metadata or () if key == "authorization"]
    if not values:
        raise Unauthenticated("missing API key: send metadata 'authorization: Bearer <key>'")
    scheme, _, token = str(values[0]).strip().partition(" ")
    token = token.strip()
    if len(values) > 1 or scheme.lower() != "bearer" or not token:
        raise Unauthenticated("malformed authorization metadata: expected 'Bearer <key>'")
    return token


class AuthInterceptor(AroundInterceptor):
    def __init__(self, authenticator: Authenticator) -> None:
        super().__init__()
        self._authenticator = authenticator

    async def around(self, call: Call) -> Any:
        if call.method.startswith(EXEMPT_PREFIXES):
            return await call.proceed()
        principal: Principal | None = None
        try:
            token = bearer_token(call.context.invocation_metadata())
            principal = await self._authenticator.authenticate(token)
        except Exception as exc:
            # Key-optional calls fall back to an unauthenticated probe on any failure.
            if call.method not in KEY_OPTIONAL:
                await errors.abort(call.context, exc, current_request_id())
            if not errors.is_mapped(exc):
                errors.log_unexpected(exc, current_request_id())
        set_principal(principal)
        return await call.proceed()
