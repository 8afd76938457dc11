"""Query parameters -> request message, by field type (for GET routes).

Each top-level scalar or repeated-scalar field of the request message is a
parameter named after the field. Repeated fields take the parameter once per
element (`lesson_types=a&lesson_types=b`); other fields at most once. An empty
value (`provider=`) means unset, like JSON null. Booleans are `true`/`false`
(or `1`/`0`); enums use their JSON names. Unknown parameters are rejected, as
unknown body fields are. The text values are turned into JSON values and then
go through jsonmap, so enum names and ranges are checked in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from minima_grpc.gateway.jsonmap import JSON, MappingError, Violation, decode_object, fields_of

M = TypeVar("M", bound=Message)

_BOOLS = {"true": True, "1": True, "false": False, "0": False}
_FLOATS = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_TEXT = frozenset(
    {FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_ENUM, FieldDescriptor.TYPE_BYTES}
)


def is_query_field(field: FieldDescriptor) -> bool:
    """Whether a request field can be given in the query string."""
    return field.type != FieldDescriptor.TYPE_MESSAGE


def message_from_query(items: Iterable[tuple[str, str]], message_class: type[M]) -> M:
    """Build `message_class` from (name, value) pairs; MappingError lists every problem."""
    fields = fields_of(message_class.DESCRIPTOR)
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(name, []).append(value)
    data: dict[str, JSON] = {}
    violations: list[Violation] = []
    for name, values in grouped.items():
        field = fields.get(name)
        if field is None or not is_query_field(field):
            violations.append(Violation(name, "unknown query parameter"))
        elif not field.is_repeated and len(values) > 1:
            violations.append(Violation(name, "given more than once"))
        else:
            try:
                parsed = [_from_text(field, value) for value in values if value != ""]
            except ValueError as exc:
                violations.append(Violation(name, str(exc)))
                continue
            data[name] = parsed if field.is_repeated else (parsed[0] if parsed else None)
    message = message_class()
    decode_object(data, message, "", violations)
    if violations:
        raise MappingError(violations)
    return message


def _from_text(field: FieldDescriptor, text: str) -> JSON:
    if field.type in _TEXT:
        return text
    if field.type == FieldDescriptor.TYPE_BOOL:
        if text.lower() in _BOOLS:
            return _BOOLS[text.lower()]
        raise ValueError("expected true or false")
    try:
        return float(text) if field.type in _FLOATS else int(text)
    except ValueError:
        expected = "a number" if field.type in _FLOATS else "an integer"
        raise ValueError(f"expected {expected}") from None
