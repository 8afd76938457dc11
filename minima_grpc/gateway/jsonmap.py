"""JSON <-> protobuf for the REST contract, derived from message descriptors.

The one place that defines how a minima.v1 message looks in JSON:

- field names are the proto names (snake_case); camelCase is not accepted;
- enums are the value name without the `<ENUM_NAME>_` prefix, lower case
  (TASK_TYPE_TOOL_USE <-> "tool_use"); the zero value `*_UNSPECIFIED` <-> null;
- every field is always written; fields with presence (proto3 `optional`
  scalars, message fields) are null when unset; repeated fields are lists,
  maps are objects, Timestamp/Duration use their RFC 3339 / "1.5s" strings and
  integers of every width are JSON numbers;
- on input, null means "unset" for every field (the server applies the
  documented default), unknown fields are rejected, and every problem is
  collected so one 400 lists them all;
- a message listed in SHORTHANDS may also be written as a bare string, which
  fills its named field: `"task": "Summarize this"` means
  `"task": {"task": "Summarize this"}`, wherever a TaskInput is expected.

`json.loads` output goes in and `json.dumps` input comes out: plain dicts,
lists, str, int, float, bool and None.
"""

from __future__ import annotations

import base64
import binascii
import keyword
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, TypeVar, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
M = TypeVar("M", bound=Message)

# Messages that may be written as a bare string filling the named field.
SHORTHANDS: Mapping[str, str] = {"minima.v1.TaskInput": "task"}

# Well-known types whose JSON form is a string (ToJsonString/FromJsonString).
STRING_WKTS = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration"})

_INT_RANGES: Mapping[int, tuple[int, int]] = {
    **dict.fromkeys(
        (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32),
        (-(2**31), 2**31 - 1),
    ),
    **dict.fromkeys((FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32), (0, 2**32 - 1)),
    **dict.fromkeys(
        (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64),
        (-(2**63), 2**63 - 1),
    ),
    **dict.fromkeys((FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64), (0, 2**64 - 1)),
}
_FLOAT_TYPES = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with the request: a dotted snake_case path and a reason."""

    field: str
    description: str


class MappingError(ValueError):
    """The JSON does not describe a valid message; carries every violation."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__(describe(self.violations))


def describe(violations: Iterable[Violation]) -> str:
    """`invalid request: a.b: reason; c: reason` (the server's wording too)."""
    parts = [f"{v.field}: {v.description}" if v.field else v.description for v in violations]
    return "invalid request: " + "; ".join(parts)


# --- enums -------------------------------------------------------------------


@cache
def enum_names(enum: EnumDescriptor) -> Mapping[int, str | None]:
    """Number -> JSON name; the zero value maps to None (JSON null)."""
    prefix = _CAMEL_BOUNDARY.sub("_", enum.name).upper() + "_"
    return {
        value.number: None if value.number == 0 else value.name.removeprefix(prefix).lower()
        for value in enum.values
    }


@cache
def enum_numbers(enum: EnumDescriptor) -> Mapping[str, int]:
    """JSON name -> number, for every value but the zero one."""
    return {name: number for number, name in enum_names(enum).items() if name is not None}


# --- proto -> JSON -----------------------------------------------------------

_Encoder = Callable[[Any], JSON]


def message_to_json(message: Message) -> dict[str, JSON]:
    """Every field of `message`, unset presence fields as None."""
    return _encoder(message.DESCRIPTOR)(message)


@cache
def _encoder(descriptor: Descriptor) -> Callable[[Message], dict[str, JSON]]:
    """A function that writes one message type, compiled once per type.

    Like dataclasses' generated __init__: one dict display of direct attribute
    reads runs about three times faster than a generic per-field loop, and every
    REST response (a recommendation is some forty messages) goes through here.
    Field names are identifiers (protoc checks), and dict keys are repr()s.
    """
    env: dict[str, Any] = {}
    items = []
    for index, field in enumerate(descriptor.fields):
        read = f"getattr(m, {field.name!r})" if keyword.iskeyword(field.name) else f"m.{field.name}"
        items.append(f"{field.name!r}: {_expression(field, read, f'e{index}', env)}")
    source = "def encode(m):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, f"<json encoder {descriptor.full_name}>", "exec"), env)
    encode: Callable[[Message], dict[str, JSON]] = env["encode"]
    return encode


def _expression(field: FieldDescriptor, read: str, name: str, env: dict[str, Any]) -> str:
    """Python source for one field's JSON value; helpers it calls go in `env`."""
    if is_map(field):
        key_field, value_field = message_type(field).fields
        key = "k" if key_field.type == FieldDescriptor.TYPE_STRING else "str(k)"
        env[name] = _value_encoder(value_field)
        item = "v" if env[name] is None else f"{name}(v)"
        return f"{{{key}: {item} for k, v in {read}.items()}}"
    encode = _value_encoder(field)
    env[name] = encode
    if field.is_repeated:
        return f"list({read})" if encode is None else f"[{name}(v) for v in {read}]"
    value = read if encode is None else f"{name}({read})"
    if field.has_presence:
        return f"({value} if m.HasField({field.name!r}) else None)"
    return value


def _value_encoder(field: FieldDescriptor) -> _Encoder | None:
    """None when the Python value is already the JSON value (numbers, str, bool)."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if message_type(field).full_name in STRING_WKTS:
            return lambda v: v.ToJsonString()
        return message_to_json
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_names(enum_type(field)).get
    if field.type == FieldDescriptor.TYPE_BYTES:
        return lambda v: base64.b64encode(v).decode("ascii")
    return None


def is_map(field: FieldDescriptor) -> bool:
    """Whether `field` is a map (a repeated synthetic entry message)."""
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.is_repeated
        and message_type(field).GetOptions().map_entry
    )


# The stubs type these as optional or as upb's own classes; at run time they
# are the descriptor classes, and the helpers are only called where they exist.
@cache
def fields_of(descriptor: Any) -> Mapping[str, FieldDescriptor]:
    # A plain dict: upb's own map fails (SystemError) on keys with lone surrogates.
    fields: dict[str, FieldDescriptor] = dict(descriptor.fields_by_name)
    return fields


def message_type(field: FieldDescriptor) -> Descriptor:
    return cast(Descriptor, field.message_type)


def enum_type(field: FieldDescriptor) -> EnumDescriptor:
    return cast(EnumDescriptor, field.enum_type)


# --- JSON -> proto -----------------------------------------------------------


def message_from_json(data: JSON, message_class: type[M]) -> M:
    """Build a `message_class` from parsed JSON; MappingError lists every problem."""
    message = message_class()
    violations: list[Violation] = []
    if not isinstance(data, dict):
        raise MappingError([Violation("", "the request body must be a JSON object")])
    decode_object(data, message, "", violations)
    if violations:
        raise MappingError(violations)
    return message


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def decode_object(data: dict[str, JSON], message: Message, path: str, out: list[Violation]) -> None:
    """Fill `message` from a JSON object, appending every problem to `out`."""
    fields = fields_of(message.DESCRIPTOR)
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            out.append(Violation(_join(path, key), _unknown_field(key, fields)))
        elif value is not None:  # null: leave unset, the server's default applies
            _decode_field(field, value, message, _join(path, key), out)


def _unknown_field(key: str, fields: Mapping[str, FieldDescriptor]) -> str:
    snake = _CAMEL_BOUNDARY.sub("_", key).lower()
    if snake != key and snake in fields:
        return f"unknown field; field names are snake_case: did you mean {snake!r}?"
    return "unknown field"


def _decode_field(
    field: FieldDescriptor, value: JSON, message: Message, path: str, out: list[Violation]
) -> None:
    target = getattr(message, field.name)
    if is_map(field):
        if not isinstance(value, dict):
            out.append(Violation(path, "expected an object"))
            return
        key_field, value_field = message_type(field).fields
        for raw_key, item in value.items():
            item_path = f"{path}[{raw_key!r}]"
            try:
                key = raw_key if key_field.type == FieldDescriptor.TYPE_STRING else int(raw_key)
            except ValueError:
                out.append(Violation(item_path, "expected an integer key"))
                continue
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                _decode_message(value_field, item, target[key], item_path, out)
            else:
                _set_scalar(value_field, item, item_path, out, partial(target.__setitem__, key))
        return
    if field.is_repeated:
        if not isinstance(value, list):
            out.append(Violation(path, "expected a list"))
            return
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                _decode_message(field, item, target.add(), item_path, out)
            else:
                _set_scalar(field, item, item_path, out, target.append)
        return
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        target.SetInParent()
        _decode_message(field, value, target, path, out)
        return
    _set_scalar(field, value, path, out, lambda v: setattr(message, field.name, v))


def _decode_message(
    field: FieldDescriptor, value: JSON, target: Message, path: str, out: list[Violation]
) -> None:
    full_name = message_type(field).full_name
    if full_name in STRING_WKTS:
        if not isinstance(value, str):
            out.append(Violation(path, "expected a string"))
            return
        try:
            target.FromJsonString(value)  # type: ignore[attr-defined]
        except ValueError as exc:
            out.append(Violation(path, f"invalid value: {exc}"))
        return
    shorthand = SHORTHANDS.get(full_name)
    if shorthand is not None and isinstance(value, str):
        value = {shorthand: value}
    if not isinstance(value, dict):
        expected = "an object or a string" if shorthand else "an object"
        out.append(Violation(path, f"expected {expected}"))
        return
    decode_object(value, target, path, out)


def _set_scalar(
    field: FieldDescriptor,
    value: JSON,
    path: str,
    out: list[Violation],
    store: Callable[[object], object],
) -> None:
    try:
        store(_scalar(field, value))
    except ValueError as exc:
        out.append(Violation(path, str(exc)))


def _scalar(field: FieldDescriptor, value: JSON) -> object:
    """The Python value for one scalar field; ValueError says what was wrong."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # "\ud800" is valid JSON but not Unicode text
            raise ValueError("contains a lone surrogate; strings must be Unicode") from None
        return value
    if kind == FieldDescriptor.TYPE_BOOL:
        if isinstance(value, bool):
            return value
        raise ValueError("expected true or false")
    if kind == FieldDescriptor.TYPE_ENUM:
        numbers = enum_numbers(enum_type(field))
        if isinstance(value, str) and value in numbers:
            return numbers[value]
        raise ValueError("expected one of " + ", ".join(repr(name) for name in numbers))
    if kind in _FLOAT_TYPES:
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # a 400-digit integer does not fit a double
                number = math.inf
            if math.isfinite(number):  # json.loads reads 1e999 as inf
                return number
            raise ValueError("must be a finite number")
        raise ValueError("expected a number")
    if kind in _INT_RANGES:
        return _integer(value, _INT_RANGES[kind])
    if kind == FieldDescriptor.TYPE_BYTES:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except binascii.Error:
                pass
        raise ValueError("expected a base64 string")
    raise ValueError(f"unsupported field type {kind}")


def _integer(value: JSON, bounds: tuple[int, int]) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 180.0 and 1.8e2 are the JSON number 180
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value
