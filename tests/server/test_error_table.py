"""The exception -> google.rpc.Status table, exhaustively."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2  # type: ignore[import-untyped, unused-ignore]

from minima_grpc import errors, v1
from minima_grpc.engine.errors import FieldViolation, InvalidRequest, MinimaError, UnknownModel

REASONS = {
    value.name.removeprefix("ERROR_REASON_")
    for value in v1.error_reason_pb2.ErrorReason.DESCRIPTOR.values[1:]
}


@pytest.mark.parametrize("cls", list(errors.CODES), ids=lambda cls: cls.__name__)
def test_every_mapped_reason_is_a_documented_error_reason(cls: type[MinimaError]) -> None:
    assert cls.reason in REASONS


def test_internal_reason_is_documented() -> None:
    assert errors.INTERNAL_REASON in REASONS


def _info(status: object) -> error_details_pb2.ErrorInfo:
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)  # type: ignore[attr-defined]
    return info


def test_invalid_request_carries_bad_request() -> None:
    error = InvalidRequest([FieldViolation("a.b", "bad"), FieldViolation("c[0]", "worse")])
    status = errors.to_status(error, "rid")
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("a.b", "bad"),
        ("c[0]", "worse"),
    ]
    assert dict(_info(status).metadata) == {"requestId": "rid"}


def test_unmapped_minima_error_is_internal_and_generic() -> None:
    class SurpriseError(MinimaError):
        reason = "SURPRISE"

    status = errors.to_status(SurpriseError("leaky detail"), None)
    assert status.code == grpc.StatusCode.INTERNAL.value[0]
    assert status.message == "internal error"
    assert _info(status).reason == "INTERNAL"


def test_exception_metadata_is_kept() -> None:
    status = errors.to_status(UnknownModel("chosen_model_id", "gpt-9"), "r")
    assert dict(_info(status).metadata) == {"modelId": "gpt-9", "requestId": "r"}
