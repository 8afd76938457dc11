"""The Mubit memory backend against a fake Mubit, through the real mubit-sdk."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from minima_grpc.engine.types import Difficulty, Scope, TaskType
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.protocol import Lesson, OutcomeRecord, RecallQuery, Reinforcement
from tests.fake_mubit import FakeKeys, FakeMubit
from tests.memory.recalled import recorded, written

OutcomeFactory = Callable[..., OutcomeRecord]
ScopeFactory = Callable[..., Scope]


async def test_remembered_outcome_is_recalled_with_its_evidence(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory, fake_mubit: FakeMubit
) -> None:
    record = make_outcome("refactor the parser module of the compiler", "claude-haiku-4-5")
    entry_id = await mubit_memory.remember(scope, record)

    hits = await mubit_memory.recall(scope, RecallQuery(text="refactor the parser module"))

    assert tuple(hits.entry_ids) == (entry_id,)
    assert tuple(hits.reference_ids) == (entry_id,)
    assert 0 < hits.similarity[0] <= 1
    assert hits.knowledge_confidence[0] == pytest.approx(0.5)
    assert recorded(hits, 0) == written(record)
    # Stored in the scope's lane, as an observation tagged kind=outcome.
    entry = fake_mubit.instance(scope.api_key or "").entries[entry_id]
    assert (entry.run_id, entry.entry_type) == ("minima:team-a", "observation")
    assert entry.metadata["kind"] == "outcome"


async def test_remember_is_idempotent_on_the_records_key(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory, fake_mubit: FakeMubit
) -> None:
    record = make_outcome("summarise the meeting notes", "gpt-4o-mini", key="fb-1")
    first = await mubit_memory.remember(scope, record)
    again = await mubit_memory.remember(scope, record)

    assert again == first
    assert len(fake_mubit.instance(scope.api_key or "").entries) == 1


async def test_sdk_environment_cannot_redirect_or_disable_writes(
    mubit_memory: MubitMemory,
    scope: Scope,
    make_outcome: OutcomeFactory,
    fake_mubit: FakeMubit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MUBIT_PROJECT/ENV would add fields (breaking gRPC ingest), MUBIT_DISABLED would
    silently drop every call, MUBIT_API_KEY would replace the caller's key."""
    monkeypatch.setenv("MUBIT_PROJECT", "proj")
    monkeypatch.setenv("MUBIT_ENV", "prod")
    monkeypatch.setenv("MUBIT_DISABLED", "1")
    monkeypatch.setenv("MUBIT_API_KEY", "mbt_server_wide_key")

    await mubit_memory.remember(scope, make_outcome("write a haiku", "m1"))

    (ingest,) = fake_mubit.requests("/v2/control/ingest")[:1]
    assert ingest.headers["authorization"] == f"Bearer {scope.api_key}"
    assert "project" not in ingest.body
    assert "env" not in ingest.body
    item = ingest.body["items"][0]
    assert json.loads(item["metadata_json"])["kind"] == "outcome"
    assert (ingest.body["agent_id"], item["intent"]) == ("minima", "observation")


async def test_namespaces_and_tenants_do_not_see_each_other(
    mubit_memory: MubitMemory,
    make_scope: ScopeFactory,
    make_outcome: OutcomeFactory,
    keys: FakeKeys,
) -> None:
    text = "classify the support ticket by urgency"
    team_a = make_scope(namespace="team-a")
    await mubit_memory.remember(team_a, make_outcome(text, "m1"))
    query = RecallQuery(text=text)

    assert len(await mubit_memory.recall(team_a, query)) == 1
    assert len(await mubit_memory.recall(make_scope(namespace="team-b"), query)) == 0
    assert len(await mubit_memory.recall(make_scope(namespace=None), query)) == 0
    other_org = make_scope(key=keys.other_org, namespace="team-a")
    assert len(await mubit_memory.recall(other_org, query)) == 0
    same_org = make_scope(key=keys.same_org, namespace="team-a")
    assert len(await mubit_memory.recall(same_org, query)) == 1


async def test_user_scoped_outcomes_stay_with_their_user(
    mubit_memory: MubitMemory, make_scope: ScopeFactory, make_outcome: OutcomeFactory
) -> None:
    text = "extract the invoice totals"
    await mubit_memory.remember(make_scope(user_id="alice"), make_outcome(text, "m1"))
    query = RecallQuery(text=text)

    assert len(await mubit_memory.recall(make_scope(user_id="alice"), query)) == 1
    assert len(await mubit_memory.recall(make_scope(user_id="bob"), query)) == 0


async def test_per_model_recall_keeps_a_rare_model_visible(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory, fake_mubit: FakeMubit
) -> None:
    """Ten close neighbours of a popular model must not crowd out the one of a rare model."""
    for i in range(10):
        await mubit_memory.remember(
            scope, make_outcome(f"sort a python list of integers quickly variant {i}", "popular")
        )
    await mubit_memory.remember(scope, make_outcome("sort a python list", "rare"))
    fake_mubit.clear_log()

    hits = await mubit_memory.recall(
        scope,
        RecallQuery(
            text="sort a python list of integers quickly variant",
            models=("popular", "rare"),
            per_model_k=2,
        ),
    )

    assert sorted(hits.models_by_row()) == ["popular", "popular", "rare"]
    assert list(hits.similarity) == sorted(hits.similarity, reverse=True)
    # The first page (2 x 2 models x 2) held only `popular`; one wider query found `rare`.
    limits = [r.body["limit"] for r in fake_mubit.requests("/v2/control/query")]
    assert limits == [8, 200]


async def test_overall_recall_honours_k_and_the_model_filter(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory
) -> None:
    for model in ("a", "b", "c"):
        await mubit_memory.remember(scope, make_outcome("draft a product announcement", model))

    assert len(await mubit_memory.recall(scope, RecallQuery(text="product announcement", k=2))) == 2
    only_b = await mubit_memory.recall(
        scope, RecallQuery(text="product announcement", models=("b",))
    )
    assert only_b.models_by_row() == ("b",)


async def test_reinforcement_moves_confidence_once_per_key(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory
) -> None:
    entry = await mubit_memory.remember(scope, make_outcome("prove the lemma", "m1"))
    credit = Reinforcement(entry_ids=(entry,), signal=1.0, idempotency_key="fb-7")

    first = await mubit_memory.reinforce(scope, credit)
    replay = await mubit_memory.reinforce(scope, credit)
    penalty = await mubit_memory.reinforce(
        scope, Reinforcement(entry_ids=(entry,), signal=-1.0, idempotency_key="fb-8")
    )

    assert first.reinforced_entry_ids == (entry,)
    assert first.updated_confidence == pytest.approx(0.6)
    assert replay.updated_confidence == pytest.approx(0.6)
    assert penalty.updated_confidence == pytest.approx(0.5)
    hits = await mubit_memory.recall(scope, RecallQuery(text="prove the lemma"))
    assert tuple(hits.entry_ids) == (entry,)
    assert hits.knowledge_confidence[0] == pytest.approx(0.5)


async def test_reinforcing_nothing_calls_nothing(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    result = await mubit_memory.reinforce(
        scope, Reinforcement(entry_ids=(), signal=1.0, idempotency_key="k")
    )
    assert result.reinforced_entry_ids == ()
    assert result.updated_confidence is None
    assert fake_mubit.requests("/v2/control/outcome") == []


async def test_lessons_reflect_into_strategies(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    lesson = Lesson(
        content="gpt-4o-mini is a reliable, cost-effective choice for translation:easy",
        lesson_type="success",
        task_type=TaskType.TRANSLATION,
        difficulty=Difficulty.EASY,
        model_id="gpt-4o-mini",
        confidence=0.9,
        idempotency_key="lsn-1",
    )
    first = await mubit_memory.record_lesson(scope, lesson)
    assert await mubit_memory.record_lesson(scope, lesson) == first
    assert await mubit_memory.strategies(scope, ["success"], 5) == []

    await mubit_memory.reflect(scope)
    strategies = await mubit_memory.strategies(scope, ["success"], 5)

    assert [s.lesson_ids for s in strategies] == [(first,)]
    assert "gpt-4o-mini" in strategies[0].description
    assert await mubit_memory.strategies(scope, ["failure"], 5) == []
    ingest = fake_mubit.requests("/v2/control/ingest")[0].body["items"][0]
    assert (ingest["intent"], ingest["lesson_type"]) == ("lesson", "success")


async def test_seeding_is_bulk_idempotent_and_recallable(
    mubit_memory: MubitMemory, scope: Scope, make_outcome: OutcomeFactory, fake_mubit: FakeMubit
) -> None:
    seeds = [make_outcome(f"answer trivia question number {i}", f"m{i}") for i in range(300)]

    assert await mubit_memory.remember_many(scope, seeds) == 300
    assert await mubit_memory.remember_many(scope, seeds) == 0
    assert len(fake_mubit.requests("/v2/control/batch_insert")) == 4  # 2 x ceil(300/256)
    hits = await mubit_memory.recall(scope, RecallQuery(text="trivia question number 7", k=3))
    assert recorded(hits, 0) == written(seeds[7])


async def test_probe_reports_reachability_and_latency(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    probe = await mubit_memory.probe(scope)
    assert probe.reachable
    assert probe.latency_ms is not None
    assert probe.latency_ms >= 0
    (health,) = fake_mubit.requests("/v2/core/health")
    assert health.headers["authorization"] == f"Bearer {scope.api_key}"

    fake_mubit.stop()
    down = await mubit_memory.probe(scope)
    assert (down.reachable, down.latency_ms) == (False, None)


async def test_empty_query_text_recalls_nothing_without_a_call(
    mubit_memory: MubitMemory, scope: Scope, fake_mubit: FakeMubit
) -> None:
    assert len(await mubit_memory.recall(scope, RecallQuery(text="   "))) == 0
    assert fake_mubit.requests() == []
