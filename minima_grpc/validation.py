"""Request validation read generically from the proto descriptors.

Rules come from field options, never from a hand-kept table:
- `google.api.field_behavior = REQUIRED`: a message must be set, a string or a
  repeated field non-empty, an enum non-zero (zero means unset);
- `(minima.v1.range)`, `(minima.v1.min_length)`, `(minima.v1.max_length)`;
- doubles and floats must be finite; enum numbers must be defined (proto3 enums
  are open, so a client can send any int).

Nested messages, repeated fields and maps are walked; every violation is
collected and reported at once with dotted snake_case paths such as
`steps[1].task.expected_input_tokens`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from google.api import field_behavior_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from minima_grpc.engine.errors import FieldViolation, InvalidRequest
from minima_grpc.v1 import validation_pb2

_FLOATING = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_NUMERIC = _FLOATING | frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


@dataclass(frozen=True, slots=True)
class _Range:
    min: float | None
    max: float | None
    exclusive_min: bool

    def check(self, value: float) -> str | None:
        below = self.min is not None and (
            value <= self.min if self.exclusive_min else value < self.min
        )
        above = self.max is not None and value > self.max
        return self.describe() if below or above else None

    def describe(self) -> str:
        if self.min is not None and self.max is not None and not self.exclusive_min:
            return f"must be between {self.min:g} and {self.max:g}"
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.exclusive_min else '>='} {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return "must be " + " and ".join(parts)


@dataclass(frozen=True, slots=True)
class _FieldRule:
    """Everything to check on one field, compiled once per message type."""

    field: FieldDescriptor
    required: bool
    range: _Range | None
    min_length: int
    max_length: int
    enum: EnumDescriptor | None
    is_map: bool


def validate(message: Message) -> None:
    """Raise InvalidRequest listing every violation in `message`; return if there are none."""
    found = list(violations(message))
    if found:
        raise InvalidRequest(found)


def violations(message: Message, prefix: str = "") -> Iterator[FieldViolation]:
    for rule in _rules(message.DESCRIPTOR):
        yield from _check_field(message, rule, prefix + rule.field.name)


def _check_field(message: Message, rule: _FieldRule, path: str) -> Iterator[FieldViolation]:
    field = rule.field
    if rule.is_map:
        mapping = getattr(message, field.name)
        if rule.required and not mapping:
            yield FieldViolation(path, "is required")
        for key in sorted(mapping):
            yield from _check_value(mapping[key], rule, f"{path}[{key!r}]")
        return
    if field.is_repeated:
        items = getattr(message, field.name)
        if rule.required and not items:
            yield FieldViolation(path, "is required (at least one)")
        for index, item in enumerate(items):
            yield from _check_value(item, rule, f"{path}[{index}]")
        return
    if field.has_presence and not message.HasField(field.name):
        if rule.required:
            yield FieldViolation(path, "is required")
        return
    value = getattr(message, field.name)
    if rule.required and _is_unset(field, value):
        yield FieldViolation(path, "is required")
        return
    yield from _check_value(value, rule, path)


def _is_unset(field: FieldDescriptor, value: object) -> bool:
    # Without presence, "unset" is the zero value: "" for strings, 0 for enums.
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return value in ("", b"")
    return field.type == FieldDescriptor.TYPE_ENUM and value == 0


def _check_value(value: object, rule: _FieldRule, path: str) -> Iterator[FieldViolation]:
    if isinstance(value, Message):
        yield from violations(value, path + ".")
        return
    if rule.enum is not None:
        if value not in rule.enum.values_by_number:
            yield FieldViolation(path, f"unknown {rule.enum.name} value {value}")
        return
    if isinstance(value, str):
        if len(value) < rule.min_length:
            yield FieldViolation(path, _length_message("at least", rule.min_length))
        if rule.max_length and len(value) > rule.max_length:
            yield FieldViolation(path, _length_message("at most", rule.max_length))
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if rule.field.type in _FLOATING and not math.isfinite(value):
        yield FieldViolation(path, "must be a finite number")
        return
    if rule.range is not None:
        problem = rule.range.check(value)
        if problem:
            yield FieldViolation(path, problem)


def _length_message(bound: str, length: int) -> str:
    if bound == "at least" and length == 1:
        return "must not be empty"
    return f"must be {bound} {length} characters"


@functools.cache
def _rules(descriptor: Descriptor) -> tuple[_FieldRule, ...]:
    return tuple(_compile(field) for field in descriptor.fields)


def _compile(field: FieldDescriptor) -> _FieldRule:
    options = field.GetOptions()
    behaviors = options.Extensions[field_behavior_pb2.field_behavior]
    entry = field.message_type
    is_map = entry is not None and entry.GetOptions().map_entry
    value_field = entry.fields_by_name["value"] if entry is not None and is_map else field
    range_rule = None
    if options.HasExtension(validation_pb2.range) and value_field.type in _NUMERIC:
        declared = options.Extensions[validation_pb2.range]
        range_rule = _Range(
            min=declared.min if declared.HasField("min") else None,
            max=declared.max if declared.HasField("max") else None,
            exclusive_min=declared.exclusive_min,
        )
    return _FieldRule(
        field=field,
        required=field_behavior_pb2.REQUIRED in behaviors,
        range=range_rule,
        min_length=options.Extensions[validation_pb2.min_length],
        max_length=options.Extensions[validation_pb2.max_length],
        enum=value_field.enum_type,
        is_map=is_map,
    )
