"""What every memory backend promises the engine (run once per backend in BACKENDS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minima_grpc.engine.types import Difficulty, Outcome, TaskType
from minima_grpc.memory.protocol import (
    Lesson,
    NeighbourLabels,
    PendingRecommendation,
    RecallQuery,
    Reinforcement,
)
from tests.memory.conftest import BackendUnderTest, outcome
from tests.memory.recalled import recorded, written

PARSER = "refactor the recursive descent parser of the compiler front end"
PARSER_QUERY = "refactor the compiler parser"
SOUP = "write a recipe for a spicy tomato soup with basil"


async def test_remembered_outcome_comes_back_with_what_it_is_weighed_by(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    record = outcome(PARSER, "claude-haiku", key="k-1")
    entry_id = await b.memory.remember(b.scope(), record)
    await b.settle()

    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))

    assert tuple(hits.entry_ids) == (entry_id,)
    assert recorded(hits, 0) == written(record)
    assert 0.0 < hits.similarity[0] <= 1.0
    assert 0.0 <= hits.knowledge_confidence[0] <= 1.0
    assert not hits.is_stale[0]


async def test_unknown_cost_and_tokens_and_seeds_come_back_as_such(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    record = outcome(
        PARSER, key="seed-1", cost_usd=None, output_tokens=None, source="seed:routerbench"
    )
    await b.memory.remember(b.scope(), record)
    await b.settle()

    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))

    assert recorded(hits, 0) == written(record)
    assert recorded(hits, 0)["cost_usd"] is None
    assert recorded(hits, 0)["seeded"] is True


async def test_closest_text_ranks_first(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    soup = await b.memory.remember(b.scope(), outcome(SOUP, key="soup"))
    parser = await b.memory.remember(b.scope(), outcome(PARSER, key="parser"))
    await b.settle()

    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY, k=2))

    assert hits.entry_ids[0] == parser
    for entry, similarity in zip(hits.entry_ids, hits.similarity, strict=True):
        assert entry != soup or similarity < hits.similarity[0]


async def test_remember_is_idempotent_on_the_key(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    record = outcome(PARSER, key="fb-1")
    first = await b.memory.remember(b.scope(), record)
    again = await b.memory.remember(b.scope(), record)
    await b.settle()

    assert again == first
    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))
    assert tuple(hits.entry_ids) == (first,)


async def test_remember_many_counts_new_records_and_replays_as_noop(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    records = [
        outcome(f"seed prompt {i} about topic {i % 4}", f"model-{i}", key=f"seed-{i}")
        for i in range(20)
    ]

    assert await b.memory.remember_many(b.scope(), records) == 20
    assert await b.memory.remember_many(b.scope(), records) == 0
    await b.settle()
    hits = await b.memory.recall(b.scope(), RecallQuery(text="seed prompt 7 about topic 3", k=50))
    assert len(hits) == len(set(hits.entry_ids)) == 20
    # the exact text ranks first (each record has its own model)
    assert recorded(hits, 0) == written(records[7])
    assert list(hits.similarity) == sorted(hits.similarity, reverse=True)


async def test_per_model_quota_keeps_a_rare_model_from_being_crowded_out(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    popular = [outcome(f"{PARSER} variant {i}", "popular", key=f"p{i}") for i in range(30)]
    rare = [outcome("a parser question about grammar", "rare", key=f"r{i}") for i in range(2)]
    await b.memory.remember_many(b.scope(), [*popular, *rare])
    await b.settle()

    hits = await b.memory.recall(
        b.scope(),
        RecallQuery(text=PARSER_QUERY, models=("popular", "rare", "absent"), per_model_k=3),
    )

    by_model = hits.models_by_row()
    assert by_model.count("popular") == 3
    assert by_model.count("rare") == 2
    assert "absent" not in by_model


async def test_model_filter_with_overall_k(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    await b.memory.remember_many(
        b.scope(),
        [outcome(f"{PARSER} {i}", f"m{i % 3}", key=f"k{i}") for i in range(12)],
    )
    await b.settle()

    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY, k=3, models=("m1",)))

    assert len(hits) == 3
    assert set(hits.models_by_row()) == {"m1"}


async def test_another_tenant_sees_and_touches_nothing(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    entry_id = await b.memory.remember(b.scope(), outcome(PARSER, key="mine"))
    await b.settle()

    assert len(await b.memory.recall(b.other_scope(), RecallQuery(text=PARSER_QUERY))) == 0
    result = await b.memory.reinforce(
        b.other_scope(), Reinforcement(entry_ids=(entry_id,), signal=1.0, idempotency_key="x")
    )
    assert entry_id not in result.reinforced_entry_ids
    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))
    assert tuple(hits.entry_ids) == (entry_id,)


async def test_namespaces_are_separate_lanes(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    payments = await b.memory.remember(b.scope("payments"), outcome(PARSER, key="a"))
    await b.memory.remember(b.scope("search"), outcome(PARSER, key="b"))
    await b.settle()

    hits = await b.memory.recall(b.scope("payments"), RecallQuery(text=PARSER_QUERY))
    assert tuple(hits.entry_ids) == (payments,)
    assert len(await b.memory.recall(b.scope("empty"), RecallQuery(text=PARSER_QUERY))) == 0


async def test_a_user_sees_own_and_shared_outcomes_only(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    shared = await b.memory.remember(b.scope(), outcome(PARSER, key="shared"))
    alice = await b.memory.remember(b.scope(user_id="alice"), outcome(PARSER, key="alice"))
    bob = await b.memory.remember(b.scope(user_id="bob"), outcome(PARSER, key="bob"))
    await b.settle()

    async def seen(user: str | None) -> set[str]:
        hits = await b.memory.recall(b.scope(user_id=user), RecallQuery(text=PARSER_QUERY))
        return set(hits.entry_ids)

    assert await seen("alice") == {shared, alice}
    assert await seen("bob") == {shared, bob}
    assert await seen(None) == {shared}


async def test_reinforcement_moves_confidence_once_per_key(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    good = await b.memory.remember(b.scope(), outcome(PARSER, key="good"))
    bad = await b.memory.remember(b.scope(), outcome(f"{PARSER} again", key="bad"))
    await b.settle()

    async def confidence(entry_id: str) -> float:
        hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))
        return float(hits.knowledge_confidence[hits.entry_ids.index(entry_id)])

    start = await confidence(good)
    up = Reinforcement(entry_ids=(good,), signal=1.0, idempotency_key="up-1")
    first = await b.memory.reinforce(b.scope(), up)
    again = await b.memory.reinforce(b.scope(), up)
    await b.memory.reinforce(
        b.scope(), Reinforcement(entry_ids=(bad,), signal=-1.0, idempotency_key="down-1")
    )

    assert good in first.reinforced_entry_ids
    assert again == first
    raised = await confidence(good)
    assert start < raised <= 1.0
    assert await confidence(bad) < start
    for i in range(40):
        await b.memory.reinforce(
            b.scope(), Reinforcement(entry_ids=(good,), signal=1.0, idempotency_key=f"up-{i + 2}")
        )
    assert raised < await confidence(good) <= 1.0


async def test_lessons_reflect_into_strategies(memory_backend: BackendUnderTest) -> None:
    b = memory_backend

    def lesson(key: str, model: str, kind: str = "success") -> Lesson:
        return Lesson(
            content=f"{model} did well on medium code tasks",
            lesson_type=kind,
            task_type=TaskType.CODE,
            difficulty=Difficulty.MEDIUM,
            model_id=model,
            confidence=0.9,
            idempotency_key=key,
        )

    first = await b.memory.record_lesson(b.scope(), lesson("l1", "haiku"))
    assert await b.memory.record_lesson(b.scope(), lesson("l1", "haiku")) == first
    await b.memory.record_lesson(b.scope(), lesson("l2", "haiku"))
    await b.memory.record_lesson(b.scope(), lesson("l3", "sonnet", "failure"))
    await b.memory.reflect(b.scope())

    strategies = await b.memory.strategies(b.scope(), [], 5)
    assert [s.supporting_lesson_count for s in strategies] == [2, 1]
    top = strategies[0]
    assert top.dominant_lesson_type == "success"
    assert first in top.lesson_ids
    assert "haiku" in top.description
    failures = await b.memory.strategies(b.scope(), ["failure"], 5)
    assert [s.dominant_lesson_type for s in failures] == ["failure"]
    assert len(await b.memory.strategies(b.scope(), [], 1)) == 1
    assert await b.memory.strategies(b.scope("elsewhere"), [], 5) == []


async def test_probe_reports_a_reachable_backend(memory_backend: BackendUnderTest) -> None:
    probe = await memory_backend.memory.probe(memory_backend.scope())
    assert probe.reachable is True
    assert probe.latency_ms is not None
    assert probe.latency_ms >= 0


async def test_blank_query_recalls_nothing(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    await b.memory.remember(b.scope(), outcome(PARSER, key="k"))
    assert len(await b.memory.recall(b.scope(), RecallQuery(text="   "))) == 0


def _pending(rec_id: str) -> PendingRecommendation:
    return PendingRecommendation(
        recommendation_id=rec_id,
        task_text=PARSER,
        task_type=TaskType.CODE,
        difficulty=Difficulty.HARD,
        tags=("lang:python",),
        recommended_model_id="haiku",
        evidence={
            "haiku": NeighbourLabels(("e1", "e2"), (0.9, 0.1)),
            "sonnet": NeighbourLabels((), ()),
        },
        est_costs={"haiku": 0.001, "sonnet": 0.01},
        created_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
    )


async def test_pending_recommendation_round_trip_is_tenant_scoped(
    memory_backend: BackendUnderTest,
) -> None:
    b = memory_backend
    pending = _pending("rec-42")
    await b.store.put(b.scope(), pending)

    assert await b.store.get(b.scope(), "rec-42") == pending
    assert await b.store.get(b.scope(), "rec-unknown") is None
    assert await b.store.get(b.other_scope(), "rec-42") is None


async def test_feedback_claims_are_atomic_and_releasable(memory_backend: BackendUnderTest) -> None:
    b = memory_backend
    assert await b.store.claim_feedback(b.scope(), "fb-1") is True
    assert await b.store.claim_feedback(b.scope(), "fb-1") is False
    await b.store.release_feedback(b.scope(), "fb-1")
    assert await b.store.claim_feedback(b.scope(), "fb-1") is True


@pytest.mark.parametrize("outcome_kind", [Outcome.SUCCESS, Outcome.PARTIAL, Outcome.FAILURE])
async def test_every_outcome_kind_round_trips(
    memory_backend: BackendUnderTest, outcome_kind: Outcome
) -> None:
    b = memory_backend
    record = outcome(PARSER, outcome=outcome_kind, key=f"o-{outcome_kind}", tags=())
    await b.memory.remember(b.scope(), record)
    await b.settle()
    hits = await b.memory.recall(b.scope(), RecallQuery(text=PARSER_QUERY))
    assert len(hits) == 1
    assert recorded(hits, 0) == written(record)
