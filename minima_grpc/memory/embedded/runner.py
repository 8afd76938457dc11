"""Runs the stores' blocking calls off the event loop, in one bounded thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded.errors import MemoryUnavailableError
from minima_grpc.memory.embedded.registry import TenantRegistry
from minima_grpc.memory.embedded.tenant import TenantStore

T = TypeVar("T")


class StoreRunner:
    """Shared by the memory and the recommendation store of one data directory."""

    def __init__(self, registry: TenantRegistry, workers: int) -> None:
        self.registry = registry
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minima-memory")

    async def run(self, call: Callable[[], T]) -> T:
        if self.registry.closed:
            raise MemoryUnavailableError(f"memory directory {self.registry.root} is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def store(self, scope: Scope) -> TenantStore:
        """The scope's tenant store, opened (in the pool) on first use."""
        found = self.registry.cached(scope.tenant)
        if found is not None:
            return found
        return await self.run(partial(self.registry.store, scope.tenant))

    async def close(self) -> None:
        await asyncio.to_thread(self.registry.close)
        self._executor.shutdown(wait=False)
