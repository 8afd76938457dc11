"""The one place that turns exceptions into google.rpc.Status.

Domain errors (minima_grpc/engine/errors.py, plus the two transport-level ones
below) map to a canonical code through CODES; every status carries an ErrorInfo
(domain "minima.v1", reason from the exception, the request id in metadata) and,
for invalid requests, a BadRequest listing every field violation. Anything else
is a bug: INTERNAL with a generic message and the request id, never the
exception text or a traceback (`abort` logs those server-side).
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from minima_grpc.engine.errors import (
    BackendUnavailable,
    InvalidRequest,
    MinimaError,
    NoCandidateModels,
    Unauthenticated,
)
from minima_grpc.v1 import ERROR_DOMAIN


class DeadlineExceededError(MinimaError):
    """The call ran past its (client or server-default) deadline."""

    reason = "DEADLINE_EXCEEDED"


class NotServingError(MinimaError):
    """The service is not ready yet (engine still starting)."""

    reason = "NOT_SERVING"


# Exception class -> status code; looked up along the exception's MRO, so a
# subclass (UnknownModel < InvalidRequest) inherits its parent's code.
CODES: dict[type[MinimaError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NoCandidateModels: grpc.StatusCode.FAILED_PRECONDITION,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    BackendUnavailable: grpc.StatusCode.UNAVAILABLE,
    NotServingError: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
}

INTERNAL_REASON = "INTERNAL"

_log = logging.getLogger("minima.errors")


def code_for(error: MinimaError) -> grpc.StatusCode | None:
    """The status code of a domain error, or None when no row covers it."""
    for cls in type(error).__mro__:
        code = CODES.get(cls)
        if code is not None:
            return code
    return None


def to_status(error: BaseException, request_id: str | None) -> status_pb2.Status:
    """google.rpc.Status for `error`; unknown exceptions become a generic INTERNAL."""
    metadata = {"requestId": request_id} if request_id else {}
    if not isinstance(error, MinimaError) or (code := code_for(error)) is None:
        message = "internal error" + (f" (request id {request_id})" if request_id else "")
        return _status(grpc.StatusCode.INTERNAL, message, INTERNAL_REASON, metadata)
    status = _status(code, error.message, error.reason, {**error.metadata, **metadata})
    if isinstance(error, InvalidRequest):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        status.details.append(_pack(bad_request))
    return status


def _status(
    code: grpc.StatusCode, message: str, reason: str, metadata: dict[str, str]
) -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN, metadata=metadata)
    numeric_code: int = code.value[0]
    return status_pb2.Status(code=numeric_code, message=message, details=[_pack(info)])


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def is_mapped(error: BaseException) -> bool:
    return isinstance(error, MinimaError) and code_for(error) is not None


def log_unexpected(error: BaseException, request_id: str | None) -> None:
    """Log a bug with its traceback, server-side only."""
    _log.error("unexpected error (request id %s)", request_id, exc_info=error)


async def abort(
    context: grpc.aio.ServicerContext[Any, Any], error: BaseException, request_id: str | None
) -> NoReturn:
    """End the call with the status for `error` (raises grpc.aio.AbortError).

    Errors without a mapping are logged here, with their traceback, before the
    client gets the generic INTERNAL.
    """
    if not is_mapped(error):
        log_unexpected(error, request_id)
    await context.abort_with_status(rpc_status.to_status(to_status(error, request_id)))
