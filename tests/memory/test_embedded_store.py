"""Embedded-specific behaviour: restarts, expiry, staleness, bad input, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from minima_grpc.engine.types import Difficulty, Scope, TaskType
from minima_grpc.memory.embedded import (
    EmbeddedMemory,
    EmbeddedRecommendationStore,
    EmbeddedSettings,
    InvalidRecordError,
    open_embedded,
)
from minima_grpc.memory.protocol import Lesson, RecallQuery, Reinforcement
from tests.memory.conftest import outcome
from tests.memory.recalled import recorded, rows, written
from tests.memory.test_contract import PARSER, PARSER_QUERY, _pending

SCOPE = Scope(tenant="tenant-a", namespace="team")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(clock: Clock) -> EmbeddedSettings:
    return EmbeddedSettings(
        clock=clock,
        recommendation_ttl=timedelta(days=7),
        stale_after=timedelta(days=30),
        busy_timeout_s=0.2,
    )


@pytest.fixture
async def opened(
    tmp_path: Path, settings: EmbeddedSettings
) -> AsyncIterator[tuple[EmbeddedMemory, EmbeddedRecommendationStore]]:
    memory, store = open_embedded(tmp_path, settings)
    yield memory, store
    await memory.close()


async def test_everything_survives_a_restart(tmp_path: Path, settings: EmbeddedSettings) -> None:
    memory, store = open_embedded(tmp_path, settings)
    entry = await memory.remember(SCOPE, outcome(PARSER, key="k1", recorded_at=settings.clock()))
    await memory.reinforce(SCOPE, Reinforcement((entry,), 1.0, "r1"))
    await memory.record_lesson(
        SCOPE,
        Lesson("haiku is fine", "success", TaskType.CODE, Difficulty.EASY, "haiku", 0.8, "l1"),
    )
    await memory.reflect(SCOPE)
    await store.put(SCOPE, _pending("rec-1"))
    await store.claim_feedback(SCOPE, "fb-1")
    before = await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))
    await memory.close()

    memory, store = open_embedded(tmp_path, settings)
    try:
        after = await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))
        assert rows(after) == rows(before)
        assert tuple(after.entry_ids) == (entry,)
        assert after.knowledge_confidence[0] > 0.5
        assert len(await memory.strategies(SCOPE, [], 5)) == 1
        assert await store.get(SCOPE, "rec-1") == _pending("rec-1")
        assert await store.claim_feedback(SCOPE, "fb-1") is False
        # The replayed reinforcement is still recognised after the restart.
        again = await memory.reinforce(SCOPE, Reinforcement((entry,), 1.0, "r1"))
        assert again.updated_confidence == pytest.approx(after.knowledge_confidence[0])
    finally:
        await memory.close()


async def test_recommendations_and_claims_expire_after_the_ttl(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore], clock: Clock
) -> None:
    _, store = opened
    await store.put(SCOPE, _pending("rec-old"))
    await store.claim_feedback(SCOPE, "fb-old")
    clock.now += timedelta(days=6)
    await store.put(SCOPE, _pending("rec-new"))
    assert await store.get(SCOPE, "rec-old") is not None

    clock.now += timedelta(days=1, seconds=1)

    assert await store.get(SCOPE, "rec-old") is None  # hidden before any purge
    assert await store.get(SCOPE, "rec-new") is not None
    assert await store.purge_expired() == 2  # rec-old and its claim
    assert await store.purge_expired() == 0
    assert await store.claim_feedback(SCOPE, "fb-old") is True


async def test_old_outcomes_are_recalled_as_stale(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore], clock: Clock
) -> None:
    memory, _ = opened
    old = await memory.remember(SCOPE, outcome(PARSER, key="old", recorded_at=clock.now))
    clock.now += timedelta(days=31)
    new = await memory.remember(SCOPE, outcome(f"{PARSER} 2", key="new", recorded_at=clock.now))

    hits = await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))

    stale = dict(zip(hits.entry_ids, hits.is_stale.tolist(), strict=True))
    assert stale == {old: True, new: False}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("task_text", "   ", "task_text is empty"),
        ("quality", 1.5, "quality must be in [0, 1]"),
        ("quality", float("nan"), "quality must be in [0, 1]"),
        ("model_id", "", "model_id is empty"),
        ("input_tokens", -3, "input_tokens must be a non-negative integer"),
        ("cost_usd", float("inf"), "cost_usd must be a finite number"),
        ("task_text", "x" * 70_000, "longer than 65536"),
    ],
)
async def test_bad_records_are_refused_and_nothing_is_written(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore],
    field: str,
    value: Any,
    message: str,
) -> None:
    memory, _ = opened
    good = outcome(PARSER, key="good")
    bad = replace(outcome(PARSER, key="bad"), **{field: value})

    with pytest.raises(InvalidRecordError, match=message.replace("[", r"\[")):
        await memory.remember_many(SCOPE, [good, bad])
    with pytest.raises(InvalidRecordError):
        await memory.remember(SCOPE, bad)

    assert len(await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))) == 0


async def test_bad_lessons_and_reinforcements_are_refused(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore],
) -> None:
    memory, _ = opened
    lesson = Lesson("x", "maybe", TaskType.CODE, Difficulty.EASY, "m", 0.5, "l1")
    with pytest.raises(InvalidRecordError, match="lesson_type"):
        await memory.record_lesson(SCOPE, lesson)
    entry = await memory.remember(SCOPE, outcome(PARSER, key="k"))
    with pytest.raises(InvalidRecordError, match="signal"):
        await memory.reinforce(SCOPE, Reinforcement((entry,), float("nan"), "r"))
    with pytest.raises(InvalidRecordError, match="tenant"):
        await memory.recall(Scope(tenant=""), RecallQuery(text=PARSER_QUERY))
    hits = await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))
    assert hits.knowledge_confidence[0] == 0.5


async def test_unknown_and_foreign_entry_ids_are_ignored(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore],
) -> None:
    memory, _ = opened
    entry = await memory.remember(SCOPE, outcome(PARSER, key="k"))
    other_lane = Scope(tenant="tenant-a", namespace="other")
    await memory.remember(other_lane, outcome(PARSER, key="k2"))

    result = await memory.reinforce(
        SCOPE,
        Reinforcement((entry, "nonsense", "deadbeef-1", f"{entry}0"), 1.0, "r-1"),
    )

    assert result.reinforced_entry_ids == (entry,)


async def test_concurrent_writes_share_commits_and_all_land(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore],
) -> None:
    memory, _ = opened
    records = [outcome(f"ticket {i}: {PARSER}", key=f"c{i}") for i in range(200)]

    ids = await asyncio.gather(*(memory.remember(SCOPE, r) for r in records))

    assert len(set(ids)) == 200
    assert await memory.remember_many(SCOPE, records) == 0


async def test_a_bulk_insert_does_not_block_the_event_loop(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore],
) -> None:
    memory, _ = opened
    ticks = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            # (a short sleep, not sleep(0): a loop spinning on the GIL starves
            # the worker thread of it and the insert takes minutes)
            await asyncio.sleep(0.001)

    beating = asyncio.create_task(heartbeat())
    await memory.remember_many(SCOPE, [outcome(f"bulk {i}", key=f"b{i}") for i in range(3000)])
    stop.set()
    await beating
    # The loop kept running other tasks while the insert ran in a worker thread.
    assert ticks > 10


async def test_a_second_process_cannot_open_the_same_directory(
    opened: tuple[EmbeddedMemory, EmbeddedRecommendationStore], tmp_path: Path
) -> None:
    from minima_grpc.memory.embedded import MemoryOpenError

    with pytest.raises(MemoryOpenError, match="in use by another Minima process"):
        open_embedded(tmp_path)


async def test_calls_after_close_fail_clearly(tmp_path: Path) -> None:
    from minima_grpc.memory.embedded import MemoryUnavailableError

    memory, store = open_embedded(tmp_path)
    await memory.remember(SCOPE, outcome(PARSER, key="k"))
    await memory.close()

    with pytest.raises(MemoryUnavailableError, match="closed"):
        await memory.recall(SCOPE, RecallQuery(text=PARSER_QUERY))
    probe = await memory.probe(SCOPE)
    assert probe.reachable is False
    with pytest.raises(MemoryUnavailableError):
        await store.put(SCOPE, _pending("rec-x"))


async def test_a_large_lane_uses_the_graph_and_reloads_it_after_restart(
    tmp_path: Path, settings: EmbeddedSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minima_grpc.memory.embedded import vectors

    monkeypatch.setattr(vectors, "MODEL_EXACT_MAX", 30)
    monkeypatch.setattr(vectors, "ADVANCE_STEP", 64)
    records = [
        outcome(
            f"ticket {i} about {['billing', 'search', 'login'][i % 3]} errors",
            f"m{i % 4}",
            key=f"t{i}",
        )
        for i in range(400)
    ]
    query = RecallQuery(text="ticket 17 about login errors", models=("m0", "m1"), per_model_k=5)
    memory, _ = open_embedded(tmp_path, settings)
    await memory.remember_many(SCOPE, records)
    await memory.wait_indexed(30)
    before = await memory.recall(SCOPE, query)
    t17 = await memory.remember(SCOPE, records[17])  # stored already: its entry id
    await memory.close()
    graphs = await asyncio.to_thread(lambda: list(tmp_path.rglob("*.usearch")))
    assert len(graphs) == 4  # one graph per model

    memory, _ = open_embedded(tmp_path, settings)
    try:
        after = await memory.recall(SCOPE, query)
    finally:
        await memory.close()

    assert after.entry_ids == before.entry_ids
    assert sorted(after.models_by_row()) == ["m0"] * 5 + ["m1"] * 5
    assert after.entry_ids[0] == t17
    assert recorded(after, 0) == written(records[17])
