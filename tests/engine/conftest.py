"""Engine fixtures: a MinimaEngine over the real embedded memory (SQLite in
tmp_path), a fixed clock, and fault injection for the degraded paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from minima_grpc.catalog import Catalog, load_catalog
from minima_grpc.config import Config
from minima_grpc.engine.engine import MinimaEngine
from minima_grpc.engine.reasoner import Reasoner
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import Scope
from minima_grpc.memory.factory import open_memory
from minima_grpc.memory.protocol import Memory, PendingRecommendation, RecommendationStore

PACKAGED = load_catalog()
assert PACKAGED.refreshed_at is not None
# One day after the packaged prices were fetched: fresh, whatever today's date is.
NOW = PACKAGED.refreshed_at + timedelta(days=1)
SCOPE = Scope(tenant="tenant-a")
# Tests assert behaviour, not speed: recall gets a deadline a loaded machine meets.
# Exploration pinned off whatever the default: these tests check the exploit pick
# (test_explore.py switches it on).
RELAXED = EngineSettings(recall_timeout_ms=30_000, reasoner_timeout_ms=30_000, exploration=False)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FaultInjection:
    """Faults to inject into the real memory, per method: an exception to
    raise, or "hang" to never answer (until cancelled)."""

    faults: dict[str, BaseException | str] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)


class FaultInjectingMemory:
    """The real memory with injected failures (for degraded-path tests only)."""

    def __init__(self, inner: Memory, injection: FaultInjection) -> None:
        self._inner = inner
        self._injection = injection

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            injection = self._injection
            injection.calls[name] = injection.calls.get(name, 0) + 1
            fault = injection.faults.get(name)
            if fault == "hang":
                await asyncio.Event().wait()
            if isinstance(fault, BaseException):
                raise fault
            return await target(*args, **kwargs)

        return call


class RecordingStore:
    """The real recommendation store, counting what was persisted."""

    def __init__(self, inner: RecommendationStore) -> None:
        self._inner = inner
        self.puts: list[PendingRecommendation] = []

    async def put(self, scope: Scope, pending: PendingRecommendation) -> None:
        self.puts.append(pending)
        await self._inner.put(scope, pending)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class EngineRig:
    engine: MinimaEngine
    memory: Memory
    store: RecordingStore
    faults: FaultInjection
    clock: Clock


class MakeEngine(Protocol):
    def __call__(
        self,
        *,
        catalog: Catalog | None = None,
        settings: EngineSettings | None = None,
        reasoner: Reasoner | None = None,
    ) -> Awaitable[EngineRig]: ...


@pytest.fixture
async def make_engine(tmp_path: Path) -> AsyncIterator[MakeEngine]:
    opened: list[Memory] = []

    async def make(
        *,
        catalog: Catalog | None = None,
        settings: EngineSettings | None = None,
        reasoner: Reasoner | None = None,
    ) -> EngineRig:
        memory, store = open_memory(Config(data_dir=tmp_path / f"data{len(opened)}"))
        opened.append(memory)
        faults = FaultInjection()
        faulty: Memory = FaultInjectingMemory(memory, faults)
        recording = RecordingStore(store)
        clock = Clock()
        engine = MinimaEngine(
            catalog or PACKAGED,
            faulty,
            recording,
            settings=settings or RELAXED,
            reasoner=reasoner,
            clock=clock,
        )
        await engine.start()
        return EngineRig(engine, memory, recording, faults, clock)

    yield make
    for memory in opened:
        await memory.close()


@pytest.fixture
async def rig(make_engine: MakeEngine) -> EngineRig:
    return await make_engine()
