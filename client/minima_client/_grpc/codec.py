"""Protobuf side of the gRPC transport: wire-named dicts <-> minima.v1 messages,
and gRPC statuses -> MinimaError.

Message classes come from the shipped descriptor set (minima_v1.binpb, built
by client/scripts/gen_descriptors.py from protos/) loaded into a private pool,
so the client needs no generated modules and cannot clash with a server's
copy of the same protos in one process.

Dicts follow the REST rendering of the contract, so both transports feed the
same models: enums are lower-case value names without their prefix (the zero
value is null), unset optional fields and messages are null, timestamps are
RFC 3339 strings.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from .._calls import JSON
from ..errors import FieldViolation, MinimaError, MinimaTransportError

SERVICE = "minima.v1.RecommendationService"
ERROR_DOMAIN = "minima.v1"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
_TIMESTAMP = "google.protobuf.Timestamp"

# gRPC code name -> (HTTP status, title), as the REST gateway answers, so an
# error reads the same over both transports.
HTTP_BY_CODE = {
    "CANCELLED": (499, "Client closed request"),
    "UNKNOWN": (500, "Internal error"),
    "INVALID_ARGUMENT": (400, "Invalid request"),
    "DEADLINE_EXCEEDED": (504, "Deadline exceeded"),
    "NOT_FOUND": (404, "Not found"),
    "ALREADY_EXISTS": (409, "Conflict"),
    "PERMISSION_DENIED": (403, "Forbidden"),
    "UNAUTHENTICATED": (401, "Unauthorized"),
    "RESOURCE_EXHAUSTED": (429, "Too many requests"),
    "FAILED_PRECONDITION": (422, "No candidate models"),
    "ABORTED": (409, "Conflict"),
    "OUT_OF_RANGE": (400, "Invalid request"),
    "UNIMPLEMENTED": (501, "Not implemented"),
    "INTERNAL": (500, "Internal error"),
    "UNAVAILABLE": (503, "Service unavailable"),
    "DATA_LOSS": (500, "Internal error"),
}
# Codes that, without a Minima ErrorInfo, mean the call never got an answer.
_TRANSPORT_CODES = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED"})


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    data = files(__package__).joinpath("minima_v1.binpb").read_bytes()
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(data).file:
        pool.Add(file)
    return pool


def _message_class(descriptor: Any) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def method_path(rpc: str) -> str:
    """The gRPC method path of an RPC of the service."""
    return f"/{SERVICE}/{rpc}"


def _method(rpc: str) -> Any:
    return _pool().FindServiceByName(SERVICE).methods_by_name[rpc]


# -- enums ----------------------------------------------------------------------
# Descriptors are typed Any: protobuf's stubs split them between the pure-Python
# and upb classes, and this module only reads their common attributes.


def _enum_prefix(enum: Any) -> str:
    # The zero value is always <PREFIX>_UNSPECIFIED (buf's ENUM_ZERO_VALUE_SUFFIX).
    name: str = enum.values_by_number[0].name
    return name.removesuffix("UNSPECIFIED")


def _enum_to_json(enum: Any, number: int) -> str | None:
    value = enum.values_by_number.get(number)
    if number == 0 or value is None:
        return None
    name: str = value.name
    return name.removeprefix(_enum_prefix(enum)).lower()


def _enum_from_json(enum: Any, name: str) -> int:
    value = enum.values_by_name.get(_enum_prefix(enum) + name.upper())
    if value is None or value.number == 0:
        raise ValueError(f"{name!r} is not a valid {enum.name}")
    return int(value.number)


# -- messages -------------------------------------------------------------------


def _scalar_to_json(field: Any, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return _enum_to_json(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_json(value)
    return value


def to_json(message: Any) -> Any:
    """Render a message the way the REST gateway does."""
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        return message.ToJsonString()
    out: JSON = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _scalar_to_json(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_scalar_to_json(field, item) for item in value]
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _scalar_to_json(field, value)
    return out


def from_json(message: Message, data: JSON) -> Message:
    """Fill `message` from a wire-named dict (None means unset)."""
    for name, value in data.items():
        if value is None:
            continue
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_MESSAGE and field.is_repeated:
            for item in value:
                from_json(target.add(), item)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            target.SetInParent()  # an empty dict still marks the message as present
            from_json(target, value)
        elif field.type == FieldDescriptor.TYPE_ENUM:
            setattr(message, name, _enum_from_json(field.enum_type, value))
        elif field.is_repeated:
            target.extend(value)
        else:
            setattr(message, name, value)
    return message


def encode_request(rpc: str, payload: JSON) -> bytes:
    """Serialize the request message of `rpc` from its wire-named payload."""
    request = _message_class(_method(rpc).input_type)()
    return from_json(request, payload).SerializeToString()


def decode_response(rpc: str, data: bytes) -> JSON:
    """Parse the response message of `rpc` into its REST rendering."""
    response = _message_class(_method(rpc).output_type).FromString(data)
    rendered: JSON = to_json(response)
    return rendered


# -- errors ---------------------------------------------------------------------


def _details(trailing: Any) -> list[Any]:
    """The typed details of the google.rpc.Status in the trailing metadata."""
    raw = next((v for k, v in trailing or () if k == STATUS_DETAILS_KEY), None)
    if not isinstance(raw, bytes):
        return []
    pool = _pool()
    status_class = _message_class(pool.FindMessageTypeByName("google.rpc.Status"))
    try:
        status: Any = status_class.FromString(raw)
    except DecodeError:
        return []
    out = []
    for detail in status.details:
        name = detail.type_url.rpartition("/")[2]
        try:
            descriptor = pool.FindMessageTypeByName(name)
            out.append(_message_class(descriptor).FromString(detail.value))
        except (KeyError, DecodeError):
            continue  # a detail type this client does not know
    return out


def error_from_status(
    code_name: str, message: str, trailing: Any, metadata: Any, request_id: str
) -> MinimaError:
    """The MinimaError for a failed RPC.

    `trailing` and `metadata` are the trailing and initial metadata as
    (key, value) pairs; the server's x-request-id, when it echoes one, wins.
    """
    echoed = next(
        (v for k, v in [*(metadata or ()), *(trailing or ())] if k == "x-request-id"), None
    )
    rid = str(echoed or request_id)
    details = _details(trailing)
    info = next((d for d in details if d.DESCRIPTOR.name == "ErrorInfo"), None)
    if code_name in _TRANSPORT_CODES and (info is None or info.domain != ERROR_DOMAIN):
        return MinimaTransportError(f"gRPC {code_name}: {message}", request_id=rid)
    status, title = HTTP_BY_CODE.get(code_name, (500, "Internal error"))
    violations = tuple(
        FieldViolation(v.field, v.description)
        for d in details
        if d.DESCRIPTOR.name == "BadRequest"
        for v in d.field_violations
    )
    return MinimaError(
        status=status,
        title=title,
        detail=message,
        request_id=rid,
        reason=info.reason if info is not None else None,
        field_violations=violations,
    )
