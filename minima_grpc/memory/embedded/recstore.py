"""`RecommendationStore` in the tenant's memory file.

A pending recommendation lives `recommendation_ttl` (default 7 days) and is
invisible once expired, even before `purge_expired` deletes it. Feedback
claims expire with the same TTL: after it the recommendation is gone, so a
late duplicate could not be applied anyway. `put` returns after the row is
durable (it is committed like any memory write).
"""

from __future__ import annotations

from functools import partial

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded.runner import StoreRunner
from minima_grpc.memory.protocol import PendingRecommendation


class EmbeddedRecommendationStore:
    def __init__(self, runner: StoreRunner) -> None:
        self._run = runner.run
        self._store = runner.store
        self._registry = runner.registry

    async def put(self, scope: Scope, pending: PendingRecommendation) -> None:
        store = await self._store(scope)
        await self._run(partial(store.put_pending, pending, self._registry.settings.clock()))

    async def get(self, scope: Scope, recommendation_id: str) -> PendingRecommendation | None:
        store = self._registry.cached(scope.tenant)
        if store is None:
            return None
        clock = self._registry.settings.clock
        return await self._run(partial(store.get_pending, recommendation_id, clock()))

    async def claim_feedback(self, scope: Scope, idempotency_key: str) -> bool:
        store = await self._store(scope)
        return await self._run(
            partial(store.claim, idempotency_key, self._registry.settings.clock())
        )

    async def release_feedback(self, scope: Scope, idempotency_key: str) -> None:
        store = await self._store(scope)
        await self._run(partial(store.release, idempotency_key))

    async def purge_expired(self) -> int:
        now = self._registry.settings.clock()
        purged = 0
        for store in self._registry.stores():
            purged += await self._run(partial(store.purge, now))
        return purged
