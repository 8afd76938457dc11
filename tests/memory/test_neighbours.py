"""Recall's columnar answer: built from parsed rows, or natively by the embedded store."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded import EmbeddedSettings, open_embedded
from minima_grpc.memory.protocol import Neighbours, OutcomeRecord, RecalledOutcome, RecallQuery
from tests.memory.conftest import outcome
from tests.memory.recalled import rows

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
    assert n.entry_ids == ("e1", "e2")
    assert n.reference_ids == ("ref-e1", "ref-e2")
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
