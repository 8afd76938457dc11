"""Errors as `application/problem+json` (RFC 9457): `{type, title, status, detail}`.

`type` is always "about:blank", as the documented examples show; the machine
readable reason travels in the `reason` extension. Extensions: `request_id`
(always), `reason` (the ErrorInfo reason) and `field_violations` (the
BadRequest violations, `[{field, description}]`) when the server sent them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from starlette.responses import Response

from minima_grpc.gateway.jsonmap import JSON, Violation

PROBLEM_JSON = "application/problem+json"

# gRPC code -> (HTTP status, title). grpc-gateway's table, except
# FAILED_PRECONDITION: in minima.v1 it only says "no candidate models" (422).
HTTP_BY_CODE: Mapping[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.CANCELLED: (499, "Client closed request"),
    grpc.StatusCode.UNKNOWN: (500, "Internal error"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "Invalid request"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "Deadline exceeded"),
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "Conflict"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Forbidden"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "Unauthorized"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "Too many requests"),
    grpc.StatusCode.FAILED_PRECONDITION: (422, "No candidate models"),
    grpc.StatusCode.ABORTED: (409, "Conflict"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "Invalid request"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "Not implemented"),
    grpc.StatusCode.INTERNAL: (500, "Internal error"),
    grpc.StatusCode.UNAVAILABLE: (503, "Service unavailable"),
    grpc.StatusCode.DATA_LOSS: (500, "Internal error"),
}
_FALLBACK = (500, "Internal error")
INTERNAL_DETAIL = "internal error; quote the request id when reporting it"
_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True, slots=True)
class Problem:
    """One error response; `headers` go on the HTTP response."""

    status: int
    title: str
    detail: str
    request_id: str
    reason: str | None = None
    field_violations: tuple[Violation, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, JSON]:
        body: dict[str, JSON] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "request_id": self.request_id,
        }
        if self.reason is not None:
            body["reason"] = self.reason
        if self.field_violations:
            body["field_violations"] = [
                {"field": v.field, "description": v.description} for v in self.field_violations
            ]
        return body

    def response(self) -> Response:
        # ASCII-escaped: details may quote caller input that is not valid Unicode.
        content = json.dumps(self.body(), separators=(",", ":"))
        return Response(content, self.status, headers=dict(self.headers), media_type=PROBLEM_JSON)


def invalid_request(violations: Iterable[Violation], detail: str, request_id: str) -> Problem:
    """A 400 the adapter raises itself (malformed JSON, wrong types, unknown fields)."""
    return Problem(400, "Invalid request", detail, request_id, "REQUEST_INVALID", tuple(violations))


def from_rpc_error(error: grpc.aio.AioRpcError, request_id: str) -> Problem:
    """Map a failed call through HTTP_BY_CODE, keeping the server's rich details."""
    code = error.code()
    status, title = HTTP_BY_CODE.get(code, _FALLBACK)
    rich = _rich_status(error)
    reason, violations, retry_after = _details(rich)
    if status == 500:
        detail = INTERNAL_DETAIL
    elif rich is not None:
        detail = rich.message
    elif code == grpc.StatusCode.UNAVAILABLE:  # transport errors name internal addresses
        detail = "the service is unavailable; retry later"
    else:
        detail = error.details() or title
    headers: dict[str, str] = {}
    if code == grpc.StatusCode.UNAUTHENTICATED:
        headers["www-authenticate"] = "Bearer"
    if retry_after is not None and status in (429, 503):
        headers["retry-after"] = str(retry_after)
    return Problem(status, title, detail, request_id, reason, violations, headers)


def _rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    metadata = error.trailing_metadata()
    value = metadata.get(_DETAILS_KEY) if metadata is not None else None
    if not isinstance(value, bytes):
        return None
    try:
        return status_pb2.Status.FromString(value)
    except DecodeError:
        return None


def _details(
    rich: status_pb2.Status | None,
) -> tuple[str | None, tuple[Violation, ...], int | None]:
    reason: str | None = None
    violations: list[Violation] = []
    retry_after: int | None = None
    for detail in rich.details if rich is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason or None
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(Violation(v.field, v.description) for v in bad.field_violations)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after = math.ceil(retry.retry_delay.ToTimedelta().total_seconds())
    return reason, tuple(violations), retry_after
