"""What the auth interceptor needs from a key checker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid bearer key belongs to.

    `tenant` is the data boundary. `api_key` is set only by authenticators whose
    backend needs the caller's own key forwarded (Mubit pass-through); it is
    never logged (repr=False) or stored.
    """

    tenant: str
    api_key: str | None = field(default=None, repr=False)


class Authenticator(Protocol):
    async def authenticate(self, token: str) -> Principal:
        """The principal behind `token` (the part after "Bearer ").

        Raises minima_grpc.engine.errors.Unauthenticated for an unknown,
        revoked or malformed key.
        """
        ...

    async def close(self) -> None: ...
