"""Reading google.rpc.Status details off a failed call, as a client would."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status


@dataclass(frozen=True)
class RichError:
    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]
    violations: dict[str, str]  # field path -> description


def rich_error(error: grpc.aio.AioRpcError) -> RichError:
    """The status a client reads; fails the test if ErrorInfo is missing."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no google.rpc.Status in {error!r}"
    info = error_details_pb2.ErrorInfo()
    bad_request = error_details_pb2.BadRequest()
    found_info = False
    for detail in status.details:
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
            found_info = True
        elif detail.Is(bad_request.DESCRIPTOR):
            detail.Unpack(bad_request)
    assert found_info, "every error must carry an ErrorInfo"
    return RichError(
        code=error.code(),
        message=status.message,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        violations={v.field: v.description for v in bad_request.field_violations},
    )
