"""Pending recommendations kept in Mubit: any replica can join a feedback to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.types import Difficulty, Scope, TaskType
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.errors import MubitUnavailable
from minima_grpc.memory.mubit.recstore import RUN_ID, MubitRecommendationStore
from minima_grpc.memory.mubit.settings import MubitSettings
from minima_grpc.memory.protocol import NeighbourLabels, PendingRecommendation
from tests.fake_mubit import FakeKeys, FakeMubit

ScopeFactory = Callable[..., Scope]
SettingsFactory = Callable[..., MubitSettings]
Replicas = tuple[MubitRecommendationStore, MubitRecommendationStore]


def _pending(rec_id: str = "rec-1") -> PendingRecommendation:
    return PendingRecommendation(
        recommendation_id=rec_id,
        task_text="Write a Python function that merges k sorted linked lists.",
        task_type=TaskType.CODE,
        difficulty=Difficulty.HARD,
        tags=("lang:python",),
        recommended_model_id="claude-haiku-4-5",
        evidence={"claude-haiku-4-5": NeighbourLabels(("e1",), (0.9,))},
        est_costs={"claude-haiku-4-5": 0.0034},
        # Long ago: expiry runs from the store's put, not from this.
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
async def replicas(make_settings: SettingsFactory) -> AsyncIterator[Replicas]:
    """Two stores with their own connectors and local state, like two server processes."""
    connectors = [MubitConnector(make_settings()) for _ in range(2)]
    yield (MubitRecommendationStore(connectors[0]), MubitRecommendationStore(connectors[1]))
    for connector in connectors:
        await connector.close()


async def test_a_recommendation_made_on_one_replica_is_found_on_another(
    replicas: Replicas, scope: Scope, fake_mubit: FakeMubit
) -> None:
    a, b = replicas
    pending = _pending()
    await a.put(scope, pending)

    assert await b.get(scope, "rec-1") == pending
    assert await b.get(scope, "rec-unknown") is None
    (insert,) = fake_mubit.requests("/v2/control/batch_insert")
    assert insert.body["run_id"] == RUN_ID


async def test_the_same_replica_answers_without_asking_mubit(
    replicas: Replicas, scope: Scope, fake_mubit: FakeMubit
) -> None:
    a, _ = replicas
    await a.put(scope, _pending())
    assert await a.get(scope, "rec-1") is not None
    assert fake_mubit.requests("/v2/core/lookup") == []


async def test_feedback_without_namespace_finds_a_namespaced_recommendation(
    replicas: Replicas, make_scope: ScopeFactory
) -> None:
    a, b = replicas
    await a.put(make_scope(namespace="team-payments", user_id="u1"), _pending())
    assert await b.get(make_scope(namespace=None), "rec-1") is not None


async def test_other_tenants_and_unknown_keys_cannot_read_it(
    replicas: Replicas, make_scope: ScopeFactory, keys: FakeKeys
) -> None:
    a, b = replicas
    await a.put(make_scope(), _pending())

    assert await b.get(make_scope(key=keys.other_org), "rec-1") is None
    # The local copy is per key: a key Mubit rejects cannot read it on this replica either.
    with pytest.raises(Unauthenticated):
        await a.get(make_scope(key=keys.unknown), "rec-1")
    assert await a.get(make_scope(key=keys.same_org), "rec-1") is not None


async def test_the_ttl_runs_from_put_and_travels_with_the_record(
    make_settings: SettingsFactory, scope: Scope
) -> None:
    """A replica with a zero TTL writes records that are expired for everyone; the
    writer's TTL, not the reader's, decides."""
    short = MubitConnector(replace(make_settings(), pending_ttl=timedelta(0)))
    long = MubitConnector(replace(make_settings(), pending_ttl=timedelta(hours=1)))
    a, b = MubitRecommendationStore(short), MubitRecommendationStore(long)
    try:
        await a.put(scope, _pending("old"))
        await b.put(scope, _pending("new"))

        assert await a.get(scope, "old") is None
        assert await b.get(scope, "old") is None
        assert await a.get(scope, "new") is not None
        assert await a.purge_expired() == 1
        assert await b.purge_expired() == 0
    finally:
        await short.close()
        await long.close()


async def test_mubit_down_at_recommend_time_still_serves_the_same_replica(
    replicas: Replicas, scope: Scope, fake_mubit: FakeMubit
) -> None:
    a, b = replicas
    fake_mubit.inject("/v2/control/batch_insert", status=503)
    await a.put(scope, _pending())  # does not raise: the recommendation must go out

    assert await a.get(scope, "rec-1") is not None
    assert await b.get(scope, "rec-1") is None


async def test_mubit_down_at_feedback_time_is_an_error_not_unknown(
    replicas: Replicas, scope: Scope, fake_mubit: FakeMubit
) -> None:
    a, b = replicas
    await a.put(scope, _pending())
    fake_mubit.inject("/v2/core/lookup", status=503)
    with pytest.raises(MubitUnavailable):
        await b.get(scope, "rec-1")


async def test_claims_are_atomic_per_replica_and_released_on_failure(
    replicas: Replicas, make_scope: ScopeFactory, keys: FakeKeys
) -> None:
    a, _ = replicas
    scope = make_scope()

    assert await a.claim_feedback(scope, "fb-1") is True
    assert await a.claim_feedback(scope, "fb-1") is False
    assert await a.claim_feedback(make_scope(key=keys.other_org), "fb-1") is True
    await a.release_feedback(scope, "fb-1")
    assert await a.claim_feedback(scope, "fb-1") is True
