"""Fixtures for the Mubit backend: a fake Mubit on loopback driven by the real mubit-sdk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from minima_grpc.engine.types import Difficulty, Outcome, Scope, TaskType
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.keys import tenant_for_key
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.mubit.settings import MubitSettings
from minima_grpc.memory.protocol import OutcomeRecord
from tests.fake_mubit import FakeKeys, FakeMubit
from tests.fake_mubit.backend import mubit_backend
from tests.memory.conftest import BackendUnderTest

# Every MUBIT_* variable mubit-sdk reads on its own; the backend must not depend on them.
_SDK_ENV = (
    "MUBIT_API_KEY",
    "MUBIT_ENDPOINT",
    "MUBIT_HTTP_ENDPOINT",
    "MUBIT_GRPC_ENDPOINT",
    "MUBIT_TRANSPORT",
    "MUBIT_TIMEOUT_MS",
    "MUBIT_MAX_RETRIES",
    "MUBIT_RETRY_ATTEMPTS",
    "MUBIT_PROJECT",
    "MUBIT_PROJECT_ID",
    "MUBIT_ENV",
    "MUBIT_DISABLED",
    "MUBIT_LOOP_DISABLED",
    "MUBIT_RUN_ID",
    "MUBIT_ACTOR",
    "MUBIT_PRINCIPAL",
)


@pytest.fixture(autouse=True)
def _clean_sdk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    # requests honours proxy variables even for loopback unless told otherwise.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def keys() -> FakeKeys:
    return FakeKeys()


@pytest.fixture
def fake_mubit(keys: FakeKeys) -> Iterator[FakeMubit]:
    with FakeMubit(keys=keys.accepted) as fake:
        yield fake


SettingsFactory = Callable[..., MubitSettings]


@pytest.fixture
def make_settings(fake_mubit: FakeMubit) -> SettingsFactory:
    """Fast-failing settings (short budgets, no SDK retries), with overrides."""

    def make(**overrides: Any) -> MubitSettings:
        base = MubitSettings(
            endpoint=fake_mubit.url,
            transport="http",
            timeout_ms=2_000,
            inline_timeout_ms=1_000,
            connect_timeout_ms=500,
            max_retries=0,
            max_workers=4,
        )
        return replace(base, **overrides)

    return make


@pytest.fixture
async def mubit_memory(make_settings: SettingsFactory) -> AsyncIterator[MubitMemory]:
    memory = MubitMemory(MubitConnector(make_settings()))
    yield memory
    await memory.close()


ScopeFactory = Callable[..., Scope]


@pytest.fixture
def make_scope(keys: FakeKeys) -> ScopeFactory:
    def make(
        key: str | None = None, namespace: str | None = "team-a", user_id: str | None = None
    ) -> Scope:
        api_key = key or keys.main
        return Scope(
            tenant=tenant_for_key(api_key), namespace=namespace, user_id=user_id, api_key=api_key
        )

    return make


@pytest.fixture
def scope(make_scope: ScopeFactory) -> Scope:
    return make_scope()


OutcomeFactory = Callable[..., OutcomeRecord]


@pytest.fixture
def make_outcome() -> OutcomeFactory:
    """Outcome records as feedback would write them."""

    def make(
        text: str,
        model_id: str,
        result: Outcome = Outcome.SUCCESS,
        *,
        quality: float = 0.9,
        key: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> OutcomeRecord:
        return OutcomeRecord(
            task_text=text,
            task_type=TaskType.CODE,
            difficulty=Difficulty.MEDIUM,
            model_id=model_id,
            outcome=result,
            quality=quality,
            recorded_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
            input_tokens=120,
            output_tokens=480,
            cost_usd=0.0021,
            latency_ms=850,
            verified_in_production=True,
            recommendation_id="rec-1",
            tags=tags,
            idempotency_key=key or f"{model_id}:{text}",
        )

    return make


@pytest.fixture
async def memory_backend() -> AsyncIterator[BackendUnderTest]:
    """The shared memory contract's backend fixture, here the Mubit backend on the
    fake Mubit (test_mubit_contract.py re-runs tests/memory/test_contract.py with it)."""
    async with mubit_backend() as mubit:

        async def settle() -> None:  # the fake finishes every ingest job at once
            return None

        yield BackendUnderTest(
            mubit.memory, mubit.store, mubit.scopes("tenant-a"), mubit.scopes("tenant-b"), settle
        )
