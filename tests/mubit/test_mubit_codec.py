"""Parsing what Mubit returns: round trips, and rows that must be skipped, not fatal."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from minima_grpc.engine.types import Difficulty, TaskType
from minima_grpc.memory.mubit.codec import (
    outcome_from_metadata,
    outcome_metadata,
    recalled_from_evidence,
    strategy_from_wire,
)
from minima_grpc.memory.pending_codec import decode_pending, encode_pending
from minima_grpc.memory.protocol import NeighbourLabels, OutcomeRecord, PendingRecommendation

OutcomeFactory = Callable[..., OutcomeRecord]


def _evidence(metadata: object, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "877ea58c-268a-432f-80d7-3d0d1568860f",
        "content": "refactor the parser module",
        "score": 0.83,
        "reference_id": "877ea58c-268a-432f-80d7-3d0d1568860f",
        "knowledge_confidence": 0.71,
        "is_stale": False,
        "superseded_by": "",
        "metadata_json": metadata if isinstance(metadata, str) else json.dumps(metadata),
    }
    row.update(fields)
    return row


def test_outcome_metadata_round_trips(make_outcome: OutcomeFactory) -> None:
    record = make_outcome("refactor the parser module", "claude-haiku-4-5", tags=("lang:python",))
    meta = json.loads(json.dumps(outcome_metadata(record)))
    assert outcome_from_metadata(record.task_text, meta) == record


def test_evidence_becomes_a_recalled_outcome(make_outcome: OutcomeFactory) -> None:
    record = make_outcome("refactor the parser module", "claude-haiku-4-5")
    recalled = recalled_from_evidence(_evidence(outcome_metadata(record)))
    assert recalled is not None
    assert recalled.entry_id == "877ea58c-268a-432f-80d7-3d0d1568860f"
    assert recalled.reference_id == recalled.entry_id
    assert recalled.similarity == pytest.approx(0.83)
    assert recalled.knowledge_confidence == pytest.approx(0.71)
    assert recalled.is_stale is False
    assert recalled.record == record


def test_superseded_evidence_is_stale(make_outcome: OutcomeFactory) -> None:
    meta = outcome_metadata(make_outcome("t", "m"))
    recalled = recalled_from_evidence(_evidence(meta, superseded_by="newer-id"))
    assert recalled is not None
    assert recalled.is_stale


def test_grpc_shaped_evidence_with_omitted_defaults_parses(make_outcome: OutcomeFactory) -> None:
    """Over gRPC, zero/false fields are omitted and metadata may come as a dict."""
    meta = outcome_metadata(make_outcome("t", "m"))
    row = {"id": "42", "content": "t", "metadata_json": meta}
    recalled = recalled_from_evidence(row)
    assert recalled is not None
    assert (recalled.similarity, recalled.is_stale, recalled.reference_id) == (0.0, False, None)
    assert recalled.knowledge_confidence == 0.5


@pytest.mark.parametrize(
    "row",
    [
        "not an object",
        {"content": "t", "metadata_json": "{}"},
        _evidence({"kind": "lesson", "model_id": "m"}),
        _evidence("{not json"),
        _evidence({"kind": "outcome"}),
        _evidence({"kind": "outcome", "model_id": "m", "task_type": "poetry", "quality": 1}),
        _evidence({"kind": "outcome", "model_id": "m", "quality": "high"}),
        _evidence(None, metadata_json=17),
    ],
    ids=["scalar", "no-id", "lesson", "bad-json", "no-model", "bad-enum", "bad-quality", "int"],
)
def test_unusable_evidence_is_skipped(row: object) -> None:
    assert recalled_from_evidence(row) is None


def test_out_of_range_scores_are_clamped(make_outcome: OutcomeFactory) -> None:
    meta = outcome_metadata(make_outcome("t", "m"))
    recalled = recalled_from_evidence(_evidence(meta, score=3.5, knowledge_confidence=-2))
    assert recalled is not None
    assert (recalled.similarity, recalled.knowledge_confidence) == (1.0, 0.0)


def test_strategy_accepts_snake_and_camel_case() -> None:
    snake = {
        "strategy_id": "st1",
        "description": "prefer haiku for code:hard",
        "supporting_lesson_count": 3,
        "avg_confidence": 0.7,
        "avg_reinforcement": 2.0,
        "dominant_lesson_type": "success",
        "dominant_scope": "session",
        "lesson_ids": ["l1", "l2", "l3"],
    }
    camel = {
        "strategyId": "st1",
        "description": "prefer haiku for code:hard",
        "supportingLessonCount": "3",
        "avgConfidence": 0.7,
        "avgReinforcement": 2,
        "dominantLessonType": "success",
        "dominantScope": "session",
        "lessonIds": ["l1", "l2", "l3"],
    }
    assert strategy_from_wire(snake) == strategy_from_wire(camel)
    assert strategy_from_wire({"description": "no id"}) is None


def _pending() -> PendingRecommendation:
    return PendingRecommendation(
        recommendation_id="9f0c",
        task_text="translate this paragraph into German",
        task_type=TaskType.TRANSLATION,
        difficulty=Difficulty.EASY,
        tags=("lang:de",),
        recommended_model_id="gpt-4o-mini",
        evidence={
            "gpt-4o-mini": NeighbourLabels(("e1", "e2"), (0.9, 0.1)),
            "claude-haiku-4-5": NeighbourLabels((), ()),
        },
        est_costs={"gpt-4o-mini": 0.0004, "claude-haiku-4-5": 0.0011},
        created_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
    )


def test_pending_recommendation_round_trips_every_field() -> None:
    pending = _pending()
    encoded = encode_pending(pending)
    # A field added to the dataclass but not to the codec would be lost between replicas.
    assert set(encoded) == {f.name for f in dataclasses.fields(PendingRecommendation)}
    assert decode_pending(json.loads(json.dumps(encoded))) == pending


def test_pending_recommendations_stored_by_an_older_version_still_decode() -> None:
    # Before labels sat next to their ids: ids per model, one label per id.
    pending = _pending()
    older = {**encode_pending(pending), "evidence_by_model": {"gpt-4o-mini": ["e1", "e2", "e3"]}}
    older["evidence_quality"] = {"e1": 0.9, "e2": 0.1}  # e3 unlabelled: never credited
    del older["evidence"]
    decoded = decode_pending(json.loads(json.dumps(older)))
    assert decoded == dataclasses.replace(
        pending, evidence={"gpt-4o-mini": NeighbourLabels(("e1", "e2"), (0.9, 0.1))}
    )


@pytest.mark.parametrize(
    "broken",
    [None, [], {"recommendation_id": "x"}, {**encode_pending(_pending()), "task_type": "nope"}],
)
def test_unreadable_pending_records_are_ignored(broken: object) -> None:
    assert decode_pending(broken) is None
