"""Enum mapping between proto numbers and domain members."""

from __future__ import annotations

import enum
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
