"""Domain <-> proto conversion: enum mappings, timestamps and recommend responses."""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import datetime

import pytest
from google.protobuf.descriptor import EnumDescriptor

from minima_grpc import convert, v1
from minima_grpc.engine import types as d

MAPS: list[tuple[convert.EnumMap[enum.StrEnum], EnumDescriptor, type[enum.StrEnum]]] = [
    (convert.TASK_TYPES, v1.TaskType.DESCRIPTOR, d.TaskType),  # type: ignore[list-item]
    (convert.DIFFICULTIES, v1.Difficulty.DESCRIPTOR, d.Difficulty),  # type: ignore[list-item]
    (convert.OUTCOMES, v1.Outcome.DESCRIPTOR, d.Outcome),  # type: ignore[list-item]
    (convert.DECISION_BASES, v1.DecisionBasis.DESCRIPTOR, d.DecisionBasis),  # type: ignore[list-item]
    (convert.HEALTH_STATUSES, v1.HealthStatus.DESCRIPTOR, d.HealthStatus),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("mapping", "descriptor", "domain"), MAPS)
def test_every_value_round_trips(
    mapping: convert.EnumMap[enum.StrEnum], descriptor: EnumDescriptor, domain: type[enum.StrEnum]
) -> None:
    assert mapping.to_domain(0) is None
    assert mapping.to_proto(None) == 0
    for value in descriptor.values[1:]:
        member = mapping.to_domain(value.number)
        assert member is not None
        assert value.name.endswith(member.value.upper())
        assert mapping.to_proto(member) == value.number
    assert len(descriptor.values) - 1 == len(domain)


def test_names_match_without_prefix() -> None:
    assert convert.TASK_TYPES.to_domain(v1.TaskType.TASK_TYPE_TOOL_USE) == d.TaskType.TOOL_USE


def test_a_domain_member_missing_from_the_proto_fails_loudly() -> None:
    class Extra(enum.StrEnum):
        SUCCESS = "success"
        PARTIAL = "partial"
        FAILURE = "failure"
        TIMEOUT = "timeout"

    with pytest.raises(ValueError, match="timeout"):
        convert.EnumMap(v1.Outcome.DESCRIPTOR, Extra)


def test_naive_timestamps_are_utc() -> None:
    stamp = convert.timestamp(datetime(2025, 1, 1, 12, 0, 0))
    assert stamp is not None
    assert stamp.seconds == 1735732800
    assert convert.timestamp(None) is None


def _ranked(model_id: str, refs: int) -> d.RankedModel:
    return d.RankedModel(
        model_id=model_id,
        provider="acme",
        predicted_success=0.8,
        est_cost_usd=0.001,
        est_cost_breakdown={"input": 0.0004, "output": 0.0006},
        score=0.5,
        rationale=f"why {model_id}",
        decision_basis=d.DecisionBasis.MEMORY,
        evidence=tuple(
            d.EvidenceRef(f"{model_id}-e{i}", None, model_id, 0.9, 0.7, 1.0, False)
            for i in range(refs)
        ),
        supports_prompt_caching=False,
        context_window=128_000,
    )


def test_the_pick_and_the_fallback_are_converted_whole_wherever_they_come_from() -> None:
    ranked = (_ranked("cheap", 2), _ranked("mid", 0), _ranked("strong", 3))
    response = d.RecommendResponse(
        recommendation_id="r",
        recommended_model=ranked[0],
        ranked=ranked,
        fallback_model=ranked[2],
        confidence=0.6,
        decision_basis=d.DecisionBasis.MEMORY,
        threshold_used=0.7,
        classified_task_type=d.TaskType.CODE,
        classified_difficulty=d.Difficulty.HARD,
        catalog_version="v",
        catalog_stale=False,
        latency_ms=1,
        warnings=(),
    )
    out = convert.recommend_response(response)
    assert [m.model_id for m in out.ranked] == ["cheap", "mid", "strong"]
    assert [len(m.evidence) for m in out.ranked] == [2, 0, 3]
    assert out.recommended_model == out.ranked[0]
    assert out.fallback_model == out.ranked[2]
    assert out.ranked[2].evidence[1].entry_id == "strong-e1"
    assert not out.ranked[2].evidence[1].HasField("reference_id")
    assert dict(out.ranked[1].est_cost_breakdown) == {"input": 0.0004, "output": 0.0006}

    # a pick that is not one of the ranked objects is converted on its own
    elsewhere = convert.recommend_response(
        replace(response, recommended_model=_ranked("other", 1), fallback_model=None)
    )
    assert elsewhere.recommended_model.model_id == "other"
    assert elsewhere.recommended_model.evidence[0].entry_id == "other-e0"
    assert not elsewhere.HasField("fallback_model")
