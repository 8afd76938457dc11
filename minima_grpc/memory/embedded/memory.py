"""`Memory` on the embedded store: async, with every blocking call in a bounded pool.

Scoping: the tenant picks the file (registry.py); the lane
(`minima:<namespace>`) partitions every table and index inside it. A scope
with a `user_id` sees that user's outcomes plus the lane's shared ones
(written without a user, e.g. seeds); a scope without one sees shared
outcomes only. Unknown entry ids are ignored, never an error.

Concurrent `remember` calls of a tenant share one transaction (batcher.py),
each returning only once its record is committed (synchronous=FULL).

Recall returns cosine similarity of the lane's TF-IDF vectors, in [0, 1];
`knowledge_confidence` starts at 0.5 and moves toward 1 or 0 with each
reinforcement; `is_stale` marks outcomes older than `stale_after`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from functools import partial

from minima_grpc.engine.types import Scope, Strategy
from minima_grpc.memory.embedded import codec
from minima_grpc.memory.embedded.batcher import GroupCommit
from minima_grpc.memory.embedded.runner import StoreRunner
from minima_grpc.memory.embedded.tenant import Remember
from minima_grpc.memory.protocol import (
    Lesson,
    MemoryProbe,
    Neighbours,
    OutcomeRecord,
    RecallQuery,
    Reinforcement,
    ReinforcementResult,
)

# remember_many commits in chunks: progress is durable and no lock is held long.
CHUNK = 1_000


class EmbeddedMemory:
    def __init__(self, runner: StoreRunner) -> None:
        self._runner = runner
        self._run = runner.run
        self._store = runner.store
        self._groups: dict[str, GroupCommit[Remember, tuple[str, bool]]] = {}

    async def remember(self, scope: Scope, record: OutcomeRecord) -> str:
        codec.check_record(record)
        store = await self._store(scope)
        group = self._groups.get(scope.tenant)
        if group is None:
            group = self._groups[scope.tenant] = GroupCommit(
                lambda items: self._run(partial(store.remember, items))
            )
        entry_id, _ = await group.submit(Remember(scope.lane, scope.user_id, record))
        return entry_id

    async def remember_many(self, scope: Scope, records: Sequence[OutcomeRecord]) -> int:
        # All or nothing on bad input: check every record before writing any.
        for record in records:
            codec.check_record(record)
        store = await self._store(scope)
        created = 0
        for start in range(0, len(records), CHUNK):
            items = [Remember(scope.lane, scope.user_id, r) for r in records[start : start + CHUNK]]
            results = await self._run(partial(store.remember, items))
            created += sum(1 for _, new in results if new)
        return created

    async def recall(self, scope: Scope, query: RecallQuery) -> Neighbours:
        store = await self._store(scope)
        return await self._run(partial(store.recall, scope.lane, scope.user_id, query))

    async def reinforce(self, scope: Scope, reinforcement: Reinforcement) -> ReinforcementResult:
        store = await self._store(scope)
        return await self._run(partial(store.reinforce, scope.lane, scope.user_id, reinforcement))

    async def record_lesson(self, scope: Scope, lesson: Lesson) -> str:
        store = await self._store(scope)
        return await self._run(partial(store.record_lesson, scope.lane, lesson))

    async def reflect(self, scope: Scope) -> None:
        store = await self._store(scope)
        await self._run(partial(store.reflect, scope.lane))

    async def strategies(
        self, scope: Scope, lesson_types: Sequence[str], limit: int
    ) -> list[Strategy]:
        store = await self._store(scope)
        return await self._run(partial(store.strategies, scope.lane, tuple(lesson_types), limit))

    async def probe(self, scope: Scope) -> MemoryProbe:
        """Never raises: a broken store is `reachable=False`."""
        started = time.perf_counter()
        try:
            problem = await self._run(partial(self._runner.registry.probe, scope.tenant))
        except Exception:
            return MemoryProbe(reachable=False, latency_ms=None)
        if problem is not None:
            return MemoryProbe(reachable=False, latency_ms=None)
        return MemoryProbe(reachable=True, latency_ms=round((time.perf_counter() - started) * 1000))

    async def wait_indexed(self, timeout_s: float | None = None) -> bool:
        """Wait until background index work is done (benchmarks, tests)."""
        return await asyncio.to_thread(self._runner.registry.indexer.wait_idle, timeout_s)

    async def close(self) -> None:
        await self._runner.close()
