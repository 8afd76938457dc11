"""Recall's columnar answer: built from parsed rows, or natively by the embedded store."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded import EmbeddedMemory, EmbeddedSettings, open_embedded
from minima_grpc.memory.embedded.registry import tenant_digest
from minima_grpc.memory.protocol import (
    Neighbours,
    OutcomeRecord,
    RecalledOutcome,
    RecallQuery,
    Reinforcement,
)
from tests.memory.conftest import outcome
from tests.memory.recalled import Row, rows

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
STALE_AFTER = timedelta(days=30)
SCOPE = Scope(tenant="tenant-a", namespace="team", user_id="alice")
QUERY = "summarise the incident report of the payment outage"


def _recalled(entry_id: str, record: OutcomeRecord, similarity: float = 0.5) -> RecalledOutcome:
    return RecalledOutcome(entry_id, f"ref-{entry_id}", similarity, 0.5, False, record)


def test_an_entry_listed_twice_counts_once_and_the_first_wins() -> None:
    first = outcome("a task", "model-a", key="1", quality=0.9)
    later = outcome("a task", "model-b", key="2", quality=0.1)
    other = outcome("another task", "model-b", key="3", cost_usd=None, output_tokens=None)

    n = Neighbours.from_outcomes(
        [_recalled("e1", first, 0.9), _recalled("e2", other, 0.7), _recalled("e1", later, 0.1)]
    )

    assert len(n) == 2
    assert tuple(n.entry_ids) == ("e1", "e2")
    assert tuple(n.reference_ids) == ("ref-e1", "ref-e2")
    assert n.entry_ids.take([1, 0, 1]) == ["e2", "e1", "e2"]
    assert n.reference_ids.take([1]) == ["ref-e2"]
    assert n.models_by_row() == ("model-a", "model-b")
    assert n.similarity.tolist() == [0.9, 0.7]
    assert n.quality.tolist() == [first.quality, other.quality]
    assert n.cost_usd[0] == first.cost_usd
    assert math.isnan(n.cost_usd[1])
    assert math.isnan(n.output_tokens[1])


def test_no_outcomes_make_an_empty_answer() -> None:
    empty = Neighbours.empty()
    assert len(empty) == 0
    assert empty.model_ids == ()
    assert rows(empty) == []


def test_columns_of_different_lengths_are_refused() -> None:
    n = Neighbours.from_outcomes([_recalled("e1", outcome("a task", key="1"))])
    with pytest.raises(ValueError, match="one value per row"):
        replace(n, quality=np.array([0.1, 0.2]))


async def test_the_embedded_columns_agree_with_the_rows_they_were_read_from(
    tmp_path: Path,
) -> None:
    settings = EmbeddedSettings(clock=lambda: NOW, stale_after=STALE_AFTER, busy_timeout_s=0.2)
    records = [
        outcome(
            f"{QUERY} {i}",
            f"model-{i % 3}",
            key=f"k{i}",
            quality=i / 10,
            recorded_at=NOW - timedelta(days=10 * i, microseconds=7 * i),
        )
        for i in range(6)
    ]
    records[1] = replace(records[1], cost_usd=None, output_tokens=None)
    records[2] = replace(records[2], source="seed:routerbench")
    records[4] = replace(records[4], output_tokens=0, cost_usd=0.0)
    memory, _ = open_embedded(tmp_path, settings)
    try:
        shared = {await memory.remember(replace(SCOPE, user_id=None), r): r for r in records[:3]}
        mine = {await memory.remember(SCOPE, r): r for r in records[3:]}
        # another user's outcome: stored, never recalled for alice
        await memory.remember(replace(SCOPE, user_id="bob"), outcome(QUERY, key="bob"))
        native = await memory.recall(SCOPE, RecallQuery(text=QUERY, k=50))
    finally:
        await memory.close()

    stored = shared | mine
    assert set(native.entry_ids) == set(stored)
    expected = Neighbours.from_outcomes(
        RecalledOutcome(
            entry_id=entry_id,
            reference_id=entry_id,
            similarity=float(similarity),
            knowledge_confidence=0.5,
            is_stale=NOW - stored[entry_id].recorded_at > STALE_AFTER,
            record=stored[entry_id],
        )
        for entry_id, similarity in zip(native.entry_ids, native.similarity, strict=True)
    )
    assert rows(native) == rows(expected)
    assert native.is_stale.tolist() == [
        NOW - stored[e].recorded_at > STALE_AFTER for e in native.entry_ids
    ]
    assert 0 < native.is_stale.sum() < len(native)
    assert native.seeded.sum() == 1


MODELS = tuple(f"model-{i}" for i in range(4))


def _stored(data_dir: Path, user_id: str | None) -> dict[str, Row]:
    """Every outcome of SCOPE's lane `user_id` may see, read straight from the
    file: entry id -> what recall must report of it (bar similarity)."""
    path = data_dir / "tenants" / tenant_digest(SCOPE.tenant) / "memory.sqlite3"
    stale_before = (NOW - STALE_AFTER).timestamp()
    with closing(sqlite3.connect(path)) as conn:
        file_id = conn.execute("SELECT value FROM meta WHERE key = 'file_id'").fetchone()[0]
        found = conn.execute(
            "SELECT seq, model_id, quality, recorded_us, cost_usd, output_tokens, source, "
            "confidence FROM outcomes JOIN lanes USING (lane_id) "
            "WHERE name = ? AND (user_id IS NULL OR user_id = ?)",
            (SCOPE.lane, user_id),
        ).fetchall()
    stored = {}
    for seq, model_id, quality, micros, cost, tokens, source, confidence in found:
        entry_id = f"{file_id}-{seq}"
        stored[entry_id] = {
            "entry_id": entry_id,
            "reference_id": entry_id,
            "knowledge_confidence": confidence,
            "is_stale": micros / 1e6 < stale_before,
            "model_id": model_id,
            "quality": quality,
            "recorded_at": micros / 1e6,
            "seeded": source.startswith("seed"),
            "cost_usd": cost,
            "output_tokens": None if tokens is None else float(tokens),
        }
    return stored


async def _recall_matches_the_file(memory: EmbeddedMemory, data_dir: Path) -> None:
    for user_id in ("alice", None, "carol"):
        stored = _stored(data_dir, user_id)
        for query in (
            RecallQuery(text=QUERY, k=100),
            RecallQuery(text=QUERY, models=MODELS, per_model_k=50),
        ):
            native = await memory.recall(replace(SCOPE, user_id=user_id), query)
            assert set(native.entry_ids) == set(stored)
            assert rows(native) == [
                {**stored[row["entry_id"]], "similarity": row["similarity"]} for row in rows(native)
            ]


async def test_embedded_recall_reports_what_the_file_holds_across_reinforcement_and_restart(
    tmp_path: Path,
) -> None:
    settings = EmbeddedSettings(clock=lambda: NOW, stale_after=STALE_AFTER, busy_timeout_s=0.2)
    records = [
        outcome(
            f"{QUERY} {i}",
            MODELS[i % 4],
            key=f"k{i}",
            quality=i / 24,
            recorded_at=NOW - timedelta(days=7 * i, microseconds=i),
            cost_usd=None if i % 4 == 0 else 0.001 * i,
            output_tokens=None if i % 5 == 0 else 10 * i,
            source="seed:bench" if i % 6 == 0 else "feedback",
        )
        for i in range(24)
    ]
    users = (None, "alice", "bob")
    memory, _ = open_embedded(tmp_path, settings)
    try:
        ids = [
            await memory.remember(replace(SCOPE, user_id=users[i % 3]), record)
            for i, record in enumerate(records)
        ]
        await memory.reinforce(SCOPE, Reinforcement(tuple(ids[:6]), 1.0, "up"))
        await memory.reinforce(SCOPE, Reinforcement(tuple(ids[3:9]), -0.5, "down"))
        await _recall_matches_the_file(memory, tmp_path)
    finally:
        await memory.close()

    memory, _ = open_embedded(tmp_path, settings)
    try:
        await _recall_matches_the_file(memory, tmp_path)
        await memory.reinforce(SCOPE, Reinforcement(tuple(ids[::2]), 1.0, "after"))
        await memory.remember(SCOPE, outcome(QUERY, MODELS[1], key="late", cost_usd=None))
        await _recall_matches_the_file(memory, tmp_path)
    finally:
        await memory.close()


async def test_embedded_entry_ids_behave_like_a_tuple_of_strings(tmp_path: Path) -> None:
    memory, _ = open_embedded(tmp_path, EmbeddedSettings(busy_timeout_s=0.2))
    try:
        ids = [await memory.remember(SCOPE, outcome(f"{QUERY} {i}", key=f"k{i}")) for i in range(3)]
        column = (await memory.recall(SCOPE, RecallQuery(text=QUERY, k=10))).entry_ids
    finally:
        await memory.close()
    found: Sequence[str] = column  # compared as the sequence a caller sees
    expected = tuple(found)
    assert column.take([2, 0]) == [expected[2], expected[0]]
    assert sorted(expected) == sorted(ids)
    assert all(isinstance(entry_id, str) for entry_id in expected)
    assert found == expected
    assert expected == found
    assert hash(found) == hash(expected)
    assert found[1:] == expected[1:]
    assert found[-1] == expected[-1]
    assert found.index(ids[2]) == expected.index(ids[2])
    assert repr(found) == repr(expected)
