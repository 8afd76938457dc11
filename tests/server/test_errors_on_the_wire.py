"""What a client sees when a call fails: google.rpc.Status with ErrorInfo (+ BadRequest)."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest

from minima_grpc import v1
from minima_grpc.engine.errors import (
    BackendUnavailable,
    FieldViolation,
    InvalidRequest,
    MinimaError,
    NoCandidateModels,
    Unauthenticated,
    UnknownModel,
)
from tests.conftest import OpenChannel, StartServer
from tests.server.fakes import RecordingEngine
from tests.server.rich_errors import rich_error

VALID = v1.RecommendRequest(task=v1.TaskInput(task="write a haiku"))


async def test_every_violation_is_reported_at_once_and_the_engine_is_not_called(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine()
    running = await start_server(engine)
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    request = v1.WorkflowRequest(
        steps=[
            v1.WorkflowStep(step_id="a", task=v1.TaskInput(task="ok")),
            v1.WorkflowStep(
                step_id="b",
                task=v1.TaskInput(task="", expected_input_tokens=-5),
                constraints=v1.Constraints(min_quality=1.5, max_cost_per_call=float("inf")),
            ),
        ],
        cost_quality_tradeoff=float("nan"),
    )
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.RecommendWorkflow(request, metadata=running.auth, timeout=5)

    error = rich_error(invalid.value)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_INVALID")
    assert error.violations == {
        "steps[1].task.task": "is required",
        "steps[1].task.expected_input_tokens": "must be >= 0",
        "steps[1].constraints.min_quality": "must be between 0 and 1",
        "steps[1].constraints.max_cost_per_call": "must be a finite number",
        "cost_quality_tradeoff": "must be a finite number",
    }
    assert engine.calls == []


async def test_undefined_enum_and_missing_required_fields(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    request = v1.FeedbackRequest(recommendation_id="rec-1", outcome=v1.Outcome.ValueType(42))
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.SubmitFeedback(request, metadata=running.auth, timeout=5)
    assert rich_error(invalid.value).violations == {
        "chosen_model_id": "is required",
        "outcome": "unknown Outcome value 42",
    }


@pytest.mark.parametrize(
    ("raised", "code", "reason"),
    [
        (
            InvalidRequest([FieldViolation("steps[0].depends_on[0]", "unknown step 'zz'")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "REQUEST_INVALID",
        ),
        (
            UnknownModel("chosen_model_id", "gpt-9"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "MODEL_UNKNOWN",
        ),
        (
            NoCandidateModels("no models match the supplied constraints"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "NO_CANDIDATE_MODELS",
        ),
        (
            Unauthenticated("mubit rejected the key"),
            grpc.StatusCode.UNAUTHENTICATED,
            "API_KEY_INVALID",
        ),
        (
            BackendUnavailable("memory is down"),
            grpc.StatusCode.UNAVAILABLE,
            "BACKEND_UNAVAILABLE",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
async def test_domain_errors_map_to_codes_and_reasons(
    start_server: StartServer,
    open_channel: OpenChannel,
    raised: MinimaError,
    code: grpc.StatusCode,
    reason: str,
) -> None:
    running = await start_server(RecordingEngine(error=raised))
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.Recommend(VALID, metadata=running.auth, timeout=5)
    error = rich_error(failed.value)
    assert (error.code, error.reason, error.domain) == (code, reason, "minima.v1")
    assert error.message == raised.message
    assert error.metadata["requestId"]
    if isinstance(raised, InvalidRequest):
        assert error.violations == {v.field: v.description for v in raised.violations}


async def test_a_bug_becomes_internal_with_request_id_and_no_traceback(
    start_server: StartServer, open_channel: OpenChannel, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_server(RecordingEngine(error=KeyError("secret_internal_detail")))
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    with caplog.at_level(logging.ERROR), pytest.raises(grpc.aio.AioRpcError) as failed:
        await stub.Recommend(VALID, metadata=(*running.auth, ("x-request-id", "req-42")), timeout=5)
    error = rich_error(failed.value)
    assert (error.code, error.reason) == (grpc.StatusCode.INTERNAL, "INTERNAL")
    assert error.message == "internal error (request id req-42)"
    assert error.metadata == {"requestId": "req-42"}
    assert "secret_internal_detail" not in str(failed.value)
    assert "Traceback" not in str(failed.value)
    # ...but the server log has the whole story.
    logged = [r.exc_info for r in caplog.records if r.exc_info and "req-42" in r.getMessage()]
    assert [type(info[1]) for info in logged] == [KeyError]


async def test_server_default_deadline_gives_deadline_exceeded(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine(call_gate=asyncio.Event())  # never set: the engine hangs
    running = await start_server(engine, default_deadline_s=0.2)
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await stub.Recommend(VALID, metadata=running.auth)  # no client deadline
    error = rich_error(late.value)
    assert (error.code, error.reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED")


async def test_client_deadline_is_capped_by_the_server_maximum(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine(call_gate=asyncio.Event())
    running = await start_server(engine, default_deadline_s=0.1, max_deadline_s=0.2)
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await stub.Recommend(VALID, metadata=running.auth, timeout=30)
    error = rich_error(late.value)
    assert error.metadata["deadlineSeconds"] == "0.2"


async def test_request_id_is_echoed_or_generated(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    stub = v1.RecommendationServiceStub(open_channel(running.address))

    given = stub.Recommend(VALID, metadata=(*running.auth, ("x-request-id", "abc-123")))
    await given
    generated = stub.Recommend(VALID, metadata=running.auth)
    await generated
    unsafe = stub.Recommend(VALID, metadata=(*running.auth, ("x-request-id", 'a b"c')))
    await unsafe

    assert dict(await given.initial_metadata())["x-request-id"] == "abc-123"
    made = dict(await generated.initial_metadata())["x-request-id"]
    replaced = dict(await unsafe.initial_metadata())["x-request-id"]
    assert len(made) == 32
    assert made != replaced
    assert replaced != 'a b"c'
    assert len(replaced) == 32


async def test_failed_calls_carry_the_request_id_too(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    call = stub.Recommend(VALID, metadata=(("x-request-id", "unauth-1"),))
    with pytest.raises(grpc.aio.AioRpcError):
        await call
    assert dict(await call.initial_metadata())["x-request-id"] == "unauth-1"
    assert rich_error(await _error_of(call)).metadata["requestId"] == "unauth-1"


async def _error_of(call: grpc.aio.UnaryUnaryCall) -> grpc.aio.AioRpcError:  # type: ignore[type-arg]
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call succeeded")
