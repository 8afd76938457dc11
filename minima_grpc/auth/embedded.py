"""Authenticator for the embedded backend: keys this server issued (auth/keys.py)."""

from __future__ import annotations

from minima_grpc.auth.keys import KeyStore
from minima_grpc.auth.protocol import Principal


class EmbeddedAuthenticator:
    """Checks bearer keys against the local key store; each key maps to one tenant.

    The lookup is a SQLite point query (tens of microseconds), cheap enough to
    run on the event loop; reading the store on every call means a revocation
    from the CLI applies at once.
    """

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    async def authenticate(self, token: str) -> Principal:
        return Principal(tenant=self._store.verify(token).tenant)

    async def close(self) -> None:
        self._store.close()
