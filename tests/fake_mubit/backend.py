"""The Mubit memory backend wired to a fresh fake Mubit, for backend-agnostic suites.

    async with mubit_backend() as backend:
        scope = backend.scopes("tenant-a")(namespace="ns")
        await backend.memory.remember(scope, record)

Each tenant name gets its own Mubit org (and key), so tenants are isolated
exactly as two Mubit instances would be.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from minima_grpc.engine.types import Scope
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.mubit.recstore import MubitRecommendationStore
from minima_grpc.memory.mubit.settings import MubitSettings

from .server import FakeMubit


@dataclass
class MubitBackend:
    fake: FakeMubit
    memory: MubitMemory
    store: MubitRecommendationStore

    def key_for(self, tenant: str) -> str:
        """The key of `tenant`'s own Mubit org (registered with the fake)."""
        org = hashlib.sha256(tenant.encode()).hexdigest()[:12]
        key = f"mbt_{org}_k1_contract"
        self.fake.add_key(key)
        return key

    def scopes(self, tenant: str) -> Callable[..., Scope]:
        """`scopes(tenant)(namespace=None, user_id=None)`: scopes carrying that tenant's key."""
        key = self.key_for(tenant)

        def make(namespace: str | None = None, user_id: str | None = None) -> Scope:
            return Scope(tenant=tenant, namespace=namespace, user_id=user_id, api_key=key)

        return make


@asynccontextmanager
async def mubit_backend() -> AsyncIterator[MubitBackend]:
    """A started fake Mubit with memory and store on one connector; all closed on exit."""
    # requests would send loopback traffic through a configured proxy otherwise.
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with FakeMubit() as fake:
        connector = MubitConnector(
            MubitSettings(
                endpoint=fake.url,
                transport="http",
                timeout_ms=5_000,
                inline_timeout_ms=2_000,
                max_retries=0,
            )
        )
        try:
            yield MubitBackend(fake, MubitMemory(connector), MubitRecommendationStore(connector))
        finally:
            await connector.close()
