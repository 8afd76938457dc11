"""Hypothesis strategies derived from message descriptors.

`messages(cls)` draws protobuf messages of any minima.v1 type (every field
kind: optional scalars set or not, nested messages, repeated, maps, enums,
Timestamps). `json_bodies(cls)` draws request bodies for the fuzz run: mostly
well-shaped JSON for the request type with hostile values mixed in (wrong
types, out-of-range numbers, unknown and camelCase keys, nulls), plus arbitrary
JSON.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from minima_grpc.gateway.jsonmap import enum_numbers, enum_type, fields_of, is_map, message_type

_FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
_INT32 = st.integers(-(2**31), 2**31 - 1)
_TEXT = st.text(max_size=12)
# Any code point, lone surrogates included (valid in JSON as "\ud800" escapes).
_ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=6)
_MAX_DEPTH = 4

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _FLOATS | _TEXT | _ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return _TEXT
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return _FLOATS
    if kind == FieldDescriptor.TYPE_INT32:
        return _INT32
    if kind == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from(sorted(enum_numbers(enum_type(field)).values()))
    raise AssertionError(f"no strategy for field type {kind} ({field.full_name})")


@st.composite
def messages(draw: st.DrawFn, cls: type[Message], depth: int = 0) -> Message:
    """A message of `cls` with a random subset of its fields set."""
    message = cls()
    for field in fields_of(cls.DESCRIPTOR).values():
        if not draw(st.booleans()):
            continue
        target = getattr(message, field.name)
        if is_map(field):
            value_field = message_type(field).fields[1]
            target.update(draw(st.dictionaries(_TEXT, _scalar(value_field), max_size=3)))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            sub_cls = GetMessageClass(message_type(field))
            if depth >= _MAX_DEPTH:
                continue
            sub: Message
            if sub_cls is Timestamp:
                stamps = st.builds(
                    Timestamp,
                    seconds=st.integers(0, 253402300799),
                    nanos=st.integers(0, 999_999_999),
                )
                sub = draw(stamps)
            else:
                sub = draw(messages(sub_cls, depth + 1))
            if field.is_repeated:
                target.add().CopyFrom(sub)
            else:
                target.CopyFrom(sub)
                target.SetInParent()  # set even when `sub` is empty
        elif field.is_repeated:
            target.extend(draw(st.lists(_scalar(field), max_size=3)))
        else:
            setattr(message, field.name, draw(_scalar(field)))
    return message


HOSTILE = JSON_VALUES | st.sampled_from([2**31, -(2**63), 1e308, 11, -1, 0.5, "", "CODE"])


@st.composite
def _shaped(draw: st.DrawFn, descriptor: Descriptor, depth: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field in fields_of(descriptor).values():
        roll = draw(st.integers(0, 9))
        if roll < 4:
            continue
        if roll == 9:
            body[field.name] = draw(HOSTILE)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not is_map(field):
            sub = message_type(field)
            value: Any = draw(_TEXT) if sub.name == "TaskInput" and draw(st.booleans()) else None
            if value is None and depth < _MAX_DEPTH:
                value = draw(_shaped(sub, depth + 1))
            body[field.name] = [value] if field.is_repeated else value
        elif is_map(field):
            body[field.name] = draw(st.dictionaries(_TEXT, _FLOATS, max_size=2))
        else:
            value = draw(
                _enum_name(field) if field.type == FieldDescriptor.TYPE_ENUM else _scalar(field)
            )
            body[field.name] = (
                draw(st.lists(st.just(value), max_size=2)) if field.is_repeated else value
            )
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.sampled_from(["unknown_field", "taskType", "costQualityTradeoff"]))] = 1
    return body


def _enum_name(field: FieldDescriptor) -> st.SearchStrategy[str | None]:
    return st.sampled_from([*enum_numbers(enum_type(field)), None])


def json_bodies(cls: type[Message]) -> st.SearchStrategy[Any]:
    """Request bodies for `cls`: mostly shaped like it, sometimes arbitrary JSON."""
    descriptor = cast(Descriptor, cls.DESCRIPTOR)
    return st.one_of(_shaped(descriptor, 0), _shaped(descriptor, 0), JSON_VALUES)
