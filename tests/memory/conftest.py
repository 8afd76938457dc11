"""Fixtures for memory tests.

`memory_backend` is parametrized over BACKENDS: every test in
test_contract.py runs once per backend. A backend is an async context
manager factory `(tmp_path) -> BackendUnderTest`; to add one, write a factory
and add it to BACKENDS (e.g. the Mubit backend against the fake Mubit).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from minima_grpc.engine.types import Difficulty, Outcome, Scope, TaskType
from minima_grpc.memory.embedded import EmbeddedSettings, open_embedded
from minima_grpc.memory.protocol import Memory, OutcomeRecord, RecommendationStore

ScopeFactory = Callable[..., Scope]


@dataclass(frozen=True)
class BackendUnderTest:
    memory: Memory
    store: RecommendationStore
    # scope(namespace=None, user_id=None) for tenant A, and the same for tenant B
    scope: ScopeFactory
    other_scope: ScopeFactory
    # Waits until every acknowledged write is recallable (no-op if it always is).
    settle: Callable[[], Awaitable[None]]


def _scopes(tenant: str) -> ScopeFactory:
    def make(namespace: str | None = None, user_id: str | None = None) -> Scope:
        return Scope(tenant=tenant, namespace=namespace, user_id=user_id)

    return make


@asynccontextmanager
async def embedded_backend(tmp_path: Path) -> AsyncIterator[BackendUnderTest]:
    memory, store = open_embedded(tmp_path / "data", EmbeddedSettings(busy_timeout_s=0.2))

    async def settle() -> None:
        await memory.wait_indexed(10.0)

    try:
        yield BackendUnderTest(
            memory, store, _scopes("tenant-a"), _scopes("tenant-b"), settle=settle
        )
    finally:
        await memory.close()


BACKENDS: dict[str, Callable[[Path], AbstractAsyncContextManager[BackendUnderTest]]] = {
    "embedded": embedded_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
async def memory_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BackendUnderTest]:
    async with BACKENDS[request.param](tmp_path) as backend:
        yield backend


def outcome(
    text: str,
    model_id: str = "model-a",
    *,
    outcome: Outcome = Outcome.SUCCESS,
    key: str | None = None,
    **fields: Any,
) -> OutcomeRecord:
    """An outcome record with every optional field set unless overridden."""
    values: dict[str, Any] = {
        "task_text": text,
        "task_type": TaskType.CODE,
        "difficulty": Difficulty.MEDIUM,
        "model_id": model_id,
        "outcome": outcome,
        "quality": 0.9 if outcome is Outcome.SUCCESS else 0.2,
        "recorded_at": datetime.now(UTC).replace(microsecond=123456),
        "input_tokens": 1200,
        "output_tokens": 350,
        "cost_usd": 0.0042,
        "latency_ms": 830,
        "verified_in_production": False,
        "source": "feedback",
        "recommendation_id": "rec-1",
        "tags": ("lang:python",),
        "idempotency_key": key,
    }
    values.update(fields)
    return OutcomeRecord(**values)
