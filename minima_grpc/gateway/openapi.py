"""OpenAPI 3.0 description of the REST routes, generated from the same descriptors.

Paths come from the http rules (routes.py), schemas from the message
descriptors with jsonmap's JSON mapping, descriptions from the proto comments
(comments.py). Request schemas reject unknown fields and accept null for any
field but a required one; response schemas list every field as required
(they are always present) and mark fields that can be null as nullable.
OpenAPI 3.0 rather than 3.1 because the bundled Swagger UI reads 3.0.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Literal

from google.api import field_behavior_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from minima_grpc.gateway.jsonmap import (
    JSON,
    SHORTHANDS,
    enum_numbers,
    enum_type,
    is_map,
    message_type,
)
from minima_grpc.gateway.query import is_query_field
from minima_grpc.gateway.routes import Route
from minima_grpc.v1 import validation_pb2

Side = Literal["request", "response"]
Schema = dict[str, JSON]

_SCALARS: Mapping[int, Schema] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_FIXED64: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WKT_SCHEMAS: Mapping[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
}
_PROBLEM: Schema = {
    "type": "object",
    "description": "RFC 9457 problem details; extensions: request_id, reason, field_violations.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "reason": {"type": "string", "description": "google.rpc.ErrorInfo reason."},
        "field_violations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "description"],
                "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
}
_ERRORS: Mapping[str, str] = {
    "400": "Invalid request: malformed JSON, wrong types, unknown fields or failed validation.",
    "401": "Unauthorized: missing or invalid key.",
    "413": "Content too large.",
    "415": "Unsupported media type: send application/json.",
    "default": "Any other error, as application/problem+json.",
}
_HEADERS: Mapping[str, Schema] = {
    "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "Your id for this request (echoed back); one is made if absent.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "GrpcTimeout": {
        "name": "Grpc-Timeout",
        "in": "header",
        "required": False,
        "description": "Call timeout in gRPC form (e.g. 500m, 2S); capped by the server.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,8}[HMSmun]$"},
    },
}


def openapi_document(
    routes: Sequence[Route],
    *,
    title: str,
    version: str,
    comments: Mapping[str, str],
    auth_exempt: Collection[str] = (),
) -> dict[str, JSON]:
    """The document; `auth_exempt` holds the gRPC paths that need no key."""
    builder = _Builder(comments)
    paths: dict[str, JSON] = {}
    for route in routes:
        operation = builder.operation(route, secured=route.rpc_path not in auth_exempt)
        path_item = paths.setdefault(route.path, {})
        assert isinstance(path_item, dict)
        path_item[route.http_method.lower()] = operation
    services = {route.method.containing_service.full_name for route in routes}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "version": version,
            "description": "\n\n".join(comments.get(name, "") for name in sorted(services)),
        },
        "paths": paths,
        "components": {
            "schemas": {**builder.schemas, "Problem": _PROBLEM},
            "responses": {
                code: {
                    "description": text,
                    "content": {"application/problem+json": {"schema": _ref("Problem")}},
                }
                for code, text in _ERRORS.items()
            },
            "parameters": dict(_HEADERS),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


def _ref(name: str, group: str = "schemas") -> Schema:
    return {"$ref": f"#/components/{group}/{name}"}


class _Builder:
    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, JSON] = {}
        self._names: dict[tuple[str, Side], str] = {}

    def operation(self, route: Route, *, secured: bool) -> Schema:
        method = route.method
        description = self.comments.get(method.full_name, "")
        errors = ["400", *(["401"] if secured else []), *(["413", "415"] if route.has_body else [])]
        operation: Schema = {
            "operationId": method.name,
            "summary": description.split("\n\n")[0].replace("\n", " "),
            "description": description,
            "parameters": [_ref(name, "parameters") for name in _HEADERS],
            "responses": {
                "200": {
                    "description": self.comments.get(method.output_type.full_name, "OK"),
                    "content": {
                        "application/json": {"schema": self.message(method.output_type, "response")}
                    },
                },
                **{code: _ref(code, "responses") for code in [*errors, "default"]},
            },
            "security": [{"bearerAuth": []}] if secured else [],
        }
        if route.has_body:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": self.message(method.input_type, "request")}
                },
            }
        else:
            parameters = operation["parameters"]
            assert isinstance(parameters, list)
            parameters.extend(
                self.query_parameter(f) for f in method.input_type.fields if is_query_field(f)
            )
        return operation

    def query_parameter(self, field: FieldDescriptor) -> Schema:
        item = self._scalar(field)
        return {
            "name": field.name,
            "in": "query",
            "required": _is_required(field),
            "description": self.comments.get(field.full_name, ""),
            "schema": {"type": "array", "items": item} if field.is_repeated else item,
            **({"explode": True} if field.is_repeated else {}),
        }

    def message(self, descriptor: Descriptor, side: Side) -> Schema:
        """A $ref to the message's schema, adding it (and what it uses) on first sight."""
        key = (descriptor.full_name, side)
        if key not in self._names:
            # A message on both sides gets two schemas: the second is suffixed.
            taken = set(self._names.values())
            name = descriptor.name
            if name in taken:
                name += side.title()
            self._names[key] = name
            self.schemas[name] = {}  # placeholder: recursive messages stop here
            self.schemas[name] = self._object(descriptor, side)
        return _ref(self._names[key])

    def _object(self, descriptor: Descriptor, side: Side) -> Schema:
        fields = descriptor.fields
        required = [f.name for f in fields if side == "response" or _is_required(f)]
        schema: Schema = {
            "type": "object",
            "description": self.comments.get(descriptor.full_name, ""),
            "properties": {f.name: self._field(f, side) for f in fields},
        }
        if required:
            schema["required"] = list(required)
        if side == "request":
            schema["additionalProperties"] = False
        return schema

    def _field(self, field: FieldDescriptor, side: Side) -> Schema:
        if is_map(field):
            value = message_type(field).fields[1]
            schema: Schema = {"type": "object", "additionalProperties": self._value(value, side)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self._value(field, side)}
        else:
            schema = self._value(field, side)
        nullable = (
            (side == "request" and not _is_required(field))
            or field.has_presence
            or field.type == FieldDescriptor.TYPE_ENUM
        )
        if "$ref" in schema or "oneOf" in schema:
            schema = {"allOf": [schema]}  # 3.0 ignores siblings of $ref
        if nullable:
            schema["nullable"] = True
            if isinstance(schema.get("enum"), list):
                schema["enum"] = [*schema["enum"], None]  # type: ignore[misc]
        description = self.comments.get(field.full_name)
        if description:
            schema["description"] = description
        return schema

    def _value(self, field: FieldDescriptor, side: Side) -> Schema:
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            return self._scalar(field)
        full_name = message_type(field).full_name
        if full_name in _WKT_SCHEMAS:
            return dict(_WKT_SCHEMAS[full_name])
        ref = self.message(message_type(field), side)
        shorthand = SHORTHANDS.get(full_name)
        if side == "request" and shorthand is not None:
            text: Schema = {
                "type": "string",
                "description": f"Shorthand for {{{shorthand!r}: <string>}}.",
            }
            return {"oneOf": [text, ref]}
        return ref

    def _scalar(self, field: FieldDescriptor) -> Schema:
        if field.type == FieldDescriptor.TYPE_ENUM:
            return _enum(enum_type(field), self.comments)
        schema = dict(_SCALARS[field.type])
        options = field.GetOptions()
        if options.HasExtension(validation_pb2.range):
            bounds = options.Extensions[validation_pb2.range]
            if bounds.HasField("min"):
                schema["minimum"] = bounds.min
                if bounds.exclusive_min:
                    schema["exclusiveMinimum"] = True
            if bounds.HasField("max"):
                schema["maximum"] = bounds.max
        if options.HasExtension(validation_pb2.min_length):
            schema["minLength"] = options.Extensions[validation_pb2.min_length]
        if options.HasExtension(validation_pb2.max_length):
            schema["maxLength"] = options.Extensions[validation_pb2.max_length]
        return schema


def _enum(enum: EnumDescriptor, comments: Mapping[str, str]) -> Schema:
    values: list[JSON] = list(enum_numbers(enum))
    lines = [comments.get(enum.full_name, "")]
    scope = enum.full_name.rsplit(".", 1)[0]
    lines += [
        f"- {name}: {comments.get(f'{scope}.{enum.values_by_number[number].name}', '')}"
        for name, number in enum_numbers(enum).items()
    ]
    return {"type": "string", "enum": values, "description": "\n".join(lines)}


def _is_required(field: FieldDescriptor) -> bool:
    behaviors = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    return field_behavior_pb2.REQUIRED in behaviors
