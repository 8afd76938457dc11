"""Descriptor-driven validation, checked against the documented ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minima_grpc import v1
from minima_grpc.engine.errors import InvalidRequest
from minima_grpc.validation import validate, violations


def _found(message: object) -> dict[str, str]:
    return {v.field: v.description for v in violations(message)}  # type: ignore[arg-type]


def test_a_minimal_valid_request_has_no_violations() -> None:
    validate(v1.RecommendRequest(task=v1.TaskInput(task="x")))
    validate(v1.ListModelsRequest())
    validate(v1.GetHealthRequest())


def test_required_fields() -> None:
    assert _found(v1.RecommendRequest()) == {"task": "is required"}
    assert _found(v1.WorkflowRequest()) == {"steps": "is required (at least one)"}
    assert _found(v1.FeedbackRequest()) == {
        "recommendation_id": "is required",
        "chosen_model_id": "is required",
        "outcome": "is required",
    }


def test_validate_raises_with_every_violation() -> None:
    with pytest.raises(InvalidRequest) as invalid:
        validate(
            v1.RecommendRequest(
                task=v1.TaskInput(task="x", difficulty=v1.Difficulty.ValueType(9)),
                max_candidates=0,
                constraints=v1.Constraints(require_context_window=0, max_latency_ms=-1),
            )
        )
    assert [v.field for v in invalid.value.violations] == [
        "task.difficulty",
        "constraints.max_latency_ms",
        "constraints.require_context_window",
        "max_candidates",
    ]
    assert "task.difficulty: unknown Difficulty value 9" in invalid.value.message


@given(st.floats(min_value=0, max_value=10))
def test_tradeoff_in_range_is_accepted(value: float) -> None:
    request = v1.RecommendRequest(task=v1.TaskInput(task="x"), cost_quality_tradeoff=value)
    assert _found(request) == {}


@given(st.floats().filter(lambda x: math.isnan(x) or not 0 <= x <= 10))
def test_tradeoff_outside_range_or_nan_is_rejected(value: float) -> None:
    request = v1.RecommendRequest(task=v1.TaskInput(task="x"), cost_quality_tradeoff=value)
    assert set(_found(request)) == {"cost_quality_tradeoff"}


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_max_candidates_range_is_1_to_64(value: int) -> None:
    request = v1.RecommendRequest(task=v1.TaskInput(task="x"), max_candidates=value)
    assert bool(_found(request)) == (not 1 <= value <= 64)


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_exclusive_minimum(value: int) -> None:
    request = v1.RecommendRequest(
        task=v1.TaskInput(task="x"), constraints=v1.Constraints(max_latency_ms=value)
    )
    assert bool(_found(request)) == (value <= 0)


def test_unset_optional_fields_are_not_range_checked() -> None:
    # max_candidates' zero value (0) is out of range, but unset is fine.
    assert _found(v1.RecommendRequest(task=v1.TaskInput(task="x"))) == {}


def test_repeated_messages_get_indexed_paths() -> None:
    request = v1.WorkflowRequest(
        steps=[
            v1.WorkflowStep(step_id="a", task=v1.TaskInput(task="t")),
            v1.WorkflowStep(step_id="b"),
            v1.WorkflowStep(task=v1.TaskInput(task="t", expected_output_tokens=-1)),
        ]
    )
    assert _found(request) == {
        "steps[1].task": "is required",
        "steps[2].step_id": "is required",
        "steps[2].task.expected_output_tokens": "must be >= 0",
    }
