"""Feedback rules that need no memory: keys, agreement and reflection cadence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from minima_grpc.engine.feedback import (
    agreeing_entries,
    feedback_key,
    lane_of,
    reflection_due,
)
from minima_grpc.engine.types import Difficulty, FeedbackRequest, Outcome, Scope, TaskType
from minima_grpc.memory.protocol import NeighbourLabels, PendingRecommendation


def test_derived_keys_dedupe_per_recommendation_and_model() -> None:
    a = feedback_key(FeedbackRequest("rec1", "m1", Outcome.SUCCESS))
    assert a == feedback_key(FeedbackRequest("rec1", "m1", Outcome.FAILURE, quality_score=0.2))
    assert a != feedback_key(FeedbackRequest("rec1", "m2", Outcome.SUCCESS))
    assert a != feedback_key(FeedbackRequest("rec2", "m1", Outcome.SUCCESS))
    explicit = FeedbackRequest("rec1", "m1", Outcome.SUCCESS, idempotency_key="mine")
    assert feedback_key(explicit) == "mine"


def test_only_agreeing_neighbours_of_the_chosen_model_are_credited() -> None:
    pending = PendingRecommendation(
        recommendation_id="r",
        task_text="t",
        task_type=TaskType.QA,
        difficulty=Difficulty.EASY,
        tags=(),
        recommended_model_id="a",
        evidence={
            "a": NeighbourLabels(("s1", "s2", "f1", "p1"), (0.9, 1.0, 0.1, 0.5)),
            "b": NeighbourLabels(("s3",), (0.9,)),
        },
        est_costs={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert agreeing_entries(pending, "a", 0.9, 0.3) == ("s1", "s2")
    assert agreeing_entries(pending, "a", 0.1, 0.3) == ("f1",)
    assert agreeing_entries(pending, "a", 0.5, 0.3) == ("p1",)
    assert agreeing_entries(pending, "c", 0.9, 0.3) == ()


def test_reflection_cadence_is_about_one_in_n_and_stable_per_key() -> None:
    keys = [f"fb:{i}" for i in range(10_000)]
    due = [k for k in keys if reflection_due(k, 25)]
    assert 300 < len(due) < 500  # expected 400
    assert all(reflection_due(k, 25) for k in due)  # a retry decides the same way


def test_feedback_is_written_to_the_recommendations_lane() -> None:
    pending = PendingRecommendation(
        recommendation_id="r",
        task_text="t",
        task_type=TaskType.QA,
        difficulty=Difficulty.EASY,
        tags=(),
        recommended_model_id="a",
        evidence={},
        est_costs={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        namespace="team-x",
        user_id="u1",
    )
    caller = Scope("tenant-a", api_key="k")
    assert lane_of(pending, caller) == Scope("tenant-a", "team-x", "u1", api_key="k")
    assert lane_of(pending, caller).lane == "minima:team-x"
    unscoped = replace(pending, namespace=None, user_id=None)
    assert lane_of(unscoped, Scope("tenant-a", namespace="mine")).lane == "minima:mine"
