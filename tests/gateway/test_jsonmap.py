"""The JSON mapping (jsonmap.py, query.py), checked over every minima.v1 type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minima_grpc import v1
from minima_grpc.gateway.jsonmap import (
    JSON,
    MappingError,
    enum_names,
    enum_numbers,
    message_from_json,
    message_to_json,
)
from minima_grpc.gateway.query import message_from_query

from .strategies import messages

ENUMS = [
    enum
    for file in (v1.types_pb2.DESCRIPTOR, v1.service_pb2.DESCRIPTOR)
    for enum in file.enum_types_by_name.values()
]
MESSAGE_CLASSES = [
    GetMessageClass(descriptor)
    for descriptor in v1.service_pb2.DESCRIPTOR.message_types_by_name.values()
]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.name)
def test_enum_names_are_derived_from_value_names(enum: Any) -> None:
    names = enum_names(enum)
    assert names[0] is None  # *_UNSPECIFIED <-> null
    for value in enum.values[1:]:
        name = names[value.number]
        assert name is not None
        assert value.name.endswith(name.upper())
        assert name == name.lower()
    assert {n: enum_numbers(enum)[n] for n in enum_numbers(enum)} == {
        name: number for number, name in names.items() if name is not None
    }


def test_documented_enum_spellings() -> None:
    assert (
        enum_names(v1.types_pb2.TaskType.DESCRIPTOR)[v1.TaskType.TASK_TYPE_TOOL_USE] == "tool_use"
    )
    assert enum_names(v1.types_pb2.HealthStatus.DESCRIPTOR)[2] == "degraded"
    assert set(enum_numbers(v1.types_pb2.Outcome.DESCRIPTOR)) == {"success", "partial", "failure"}


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.DESCRIPTOR.name)
def test_every_field_is_written_even_when_unset(cls: type[Message]) -> None:
    rendered = message_to_json(cls())
    assert list(rendered) == [f.name for f in cls.DESCRIPTOR.fields]
    for field in cls.DESCRIPTOR.fields:
        value = rendered[field.name]
        if field.is_repeated:
            assert value in ([], {})
        elif field.has_presence or field.enum_type is not None:
            assert value is None
        else:
            assert value in (0, False, "")


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_json_round_trip_is_lossless(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(MESSAGE_CLASSES))
    message = data.draw(messages(cls))
    text = json.dumps(message_to_json(message), allow_nan=False)
    assert message_from_json(json.loads(text), cls) == message


def test_null_means_unset_for_every_field_kind() -> None:
    body: dict[str, JSON] = {f.name: None for f in v1.FeedbackRequest.DESCRIPTOR.fields}
    assert message_from_json(body, v1.FeedbackRequest) == v1.FeedbackRequest()


def test_numbers() -> None:
    task = message_from_json({"task": "t", "expected_input_tokens": 180.0}, v1.TaskInput)
    assert task.expected_input_tokens == 180
    assert message_from_json({"min_quality": 1}, v1.Constraints).min_quality == 1.0
    for bad in (2**31, True, 1.5, "180"):
        with pytest.raises(MappingError, match="expected_input_tokens"):
            message_from_json({"task": "t", "expected_input_tokens": bad}, v1.TaskInput)


def test_only_task_input_has_a_string_shorthand() -> None:
    step = message_from_json({"step_id": "a", "task": "do it"}, v1.WorkflowStep)
    assert step.task == v1.TaskInput(task="do it")
    with pytest.raises(MappingError, match="constraints: expected an object"):
        message_from_json({"task": "t", "constraints": "none"}, v1.RecommendRequest)


def test_timestamps_are_rfc3339() -> None:
    card = message_from_json({"cost_fetched_at": "2026-01-01T12:30:00Z"}, v1.ModelCard)
    assert message_to_json(card)["cost_fetched_at"] == "2026-01-01T12:30:00Z"
    with pytest.raises(MappingError, match="cost_fetched_at"):
        message_from_json({"cost_fetched_at": "yesterday"}, v1.ModelCard)


def test_query_empty_value_means_unset_and_bools_have_spellings() -> None:
    query = [("provider", ""), ("include_stale", "FALSE"), ("max_cost", "2.5")]
    request = message_from_query(query, v1.ListModelsRequest)
    assert not request.HasField("provider")
    assert (request.include_stale, request.max_cost) == (False, 2.5)
    assert message_from_query([("include_stale", "1")], v1.ListModelsRequest).include_stale


def test_query_collects_every_problem() -> None:
    with pytest.raises(MappingError) as caught:
        message_from_query([("max_strategies", "x"), ("lane", "y")], v1.ListStrategiesRequest)
    assert [v.field for v in caught.value.violations] == ["max_strategies", "lane"]
