"""The gRPC transport against a real grpc server on loopback.

The server side here is a stand-in servicer (the real engine is tested
elsewhere) that converts with the REST gateway's own JSON mapping, so these
tests also prove that a `grpc://` client sees exactly what an `http://` client
sees: the same requests arrive and the same models come back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status
from minima_client import (
    Constraints,
    MinimaClient,
    MinimaError,
    MinimaTransportError,
    ModelsResponse,
    RecommendResponse,
    StrategiesResponse,
    TaskInput,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
)

from minima_grpc import v1
from minima_grpc.engine import errors as domain
from minima_grpc.errors import NotServingError, to_status
from minima_grpc.gateway.jsonmap import message_from_json, message_to_json
from tests.client.client_support import (
    API_KEY,
    Runner,
    feedback_body,
    health_body,
    models_body,
    recommend_body,
    strategies_body,
    workflow_body,
)

SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "Recommend": recommend_body,
    "RecommendWorkflow": workflow_body,
    "SubmitFeedback": feedback_body,
    "ListModels": models_body,
    "ListStrategies": strategies_body,
    "GetHealth": health_body,
}


@dataclass
class StandIn:
    """Answers every RPC with its sample, or with the next queued failure."""

    received: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    failures: list[grpc.Status | grpc.StatusCode] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self, rpc: str) -> grpc.RpcMethodHandler[Any, Any]:
        method = v1.SERVICE_DESCRIPTOR.methods_by_name[rpc]
        request_class = v1.service_pb2.DESCRIPTOR.message_types_by_name[method.input_type.name]
        response_class = getattr(v1.service_pb2, method.output_type.name)

        def serve(request: Any, context: grpc.ServicerContext) -> Any:
            with self.lock:
                metadata = dict(context.invocation_metadata())
                self.received.append((rpc, message_to_json(request), metadata))
                failure = self.failures.pop(0) if self.failures else None
            if isinstance(failure, grpc.StatusCode):
                context.abort(failure, "plain failure")
            if failure is not None:
                context.abort_with_status(failure)
            context.set_trailing_metadata((("x-request-id", metadata["x-request-id"]),))
            return message_from_json(SAMPLES[rpc](), response_class)

        return grpc.unary_unary_rpc_method_handler(
            serve,
            request_deserializer=getattr(v1.service_pb2, request_class.name).FromString,
            response_serializer=response_class.SerializeToString,
        )


@pytest.fixture
def stand_in() -> Iterator[tuple[str, StandIn]]:
    servicer = StandIn()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {rpc: servicer.handler(rpc) for rpc in SAMPLES}
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(v1.SERVICE_NAME, handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"grpc://127.0.0.1:{port}", servicer
    server.stop(None)


def failure(error: domain.MinimaError) -> grpc.Status:
    """The status the real server sends for a domain error."""
    status: grpc.Status = rpc_status.to_status(to_status(error, None))
    return status


def test_recommend_over_grpc_matches_rest(run: Runner, stand_in: tuple[str, StandIn]) -> None:
    url, servicer = stand_in
    rec = run(
        url, "recommend",
        TaskInput(task="Merge lists", task_type="tool_use", difficulty="hard", tags=["a"]),
        cost_quality_tradeoff=3, constraints={"min_quality": 0.8}, namespace="ns",
        max_candidates=12, allow_llm_escalation=False, explain=True,
    )  # fmt: skip
    [(rpc, request, metadata)] = servicer.received
    assert rpc == "Recommend"
    assert metadata["authorization"] == f"Bearer {API_KEY}"
    assert metadata["x-request-id"]
    assert request["task"] == {
        "task": "Merge lists",
        "task_type": "tool_use",
        "difficulty": "hard",
        "expected_input_tokens": None,
        "expected_output_tokens": None,
        "tags": ["a"],
    }
    assert request["constraints"]["min_quality"] == 0.8
    assert request["constraints"]["max_cost_per_call"] is None
    assert (request["cost_quality_tradeoff"], request["max_candidates"]) == (3.0, 12)
    assert (request["namespace"], request["user_id"]) == ("ns", None)
    assert (request["allow_llm_escalation"], request["explain"]) == (False, True)
    assert rec == RecommendResponse.model_validate(recommend_body())


def test_unset_keywords_stay_unset_over_grpc(run: Runner, stand_in: tuple[str, StandIn]) -> None:
    url, servicer = stand_in
    run(url, "recommend", "plain")
    [(_, request, _)] = servicer.received
    assert request["task"]["task"] == "plain"
    assert request["constraints"] is None
    for name in ("cost_quality_tradeoff", "max_candidates", "allow_llm_escalation", "explain"):
        assert request[name] is None, name


def test_every_other_method_over_grpc(run: Runner, stand_in: tuple[str, StandIn]) -> None:
    url, servicer = stand_in
    workflow = WorkflowRequest(
        steps=[
            WorkflowStep(step_id="a", task=TaskInput(task="x")),
            WorkflowStep(
                step_id="b",
                task=TaskInput(task="y"),
                constraints=Constraints(),
                depends_on=["a"],
            ),
        ]
    )
    assert run(url, "recommend_workflow", workflow) == WorkflowResponse.model_validate(
        workflow_body()
    )
    answer = run(url, "feedback", "rec-1", "gpt-4o-mini", "partial", quality_score=0.5)
    assert answer.accepted
    catalog = run(url, "models", provider="openai", task_type="code", include_stale=False)
    assert catalog == ModelsResponse.model_validate(models_body())
    strategies = run(url, "strategies", namespace="team-payments", lesson_types=["success"])
    assert strategies == StrategiesResponse.model_validate(strategies_body())
    assert run(url, "health") == health_body()

    requests = {rpc: body for rpc, body, _ in servicer.received}
    steps = requests["RecommendWorkflow"]["steps"]
    assert steps[0]["constraints"] is None
    assert steps[1]["constraints"] is not None  # an empty override is still sent
    assert steps[1]["depends_on"] == ["a"]
    assert requests["SubmitFeedback"]["outcome"] == "partial"
    assert requests["SubmitFeedback"]["idempotency_key"]
    assert requests["ListModels"]["task_type"] == "code"
    assert requests["ListModels"]["include_stale"] is False
    assert requests["ListStrategies"]["lesson_types"] == ["success"]


def test_rich_status_becomes_the_same_minima_error(
    run: Runner, stand_in: tuple[str, StandIn]
) -> None:
    url, servicer = stand_in
    violation = domain.FieldViolation("cost_quality_tradeoff", "must be <= 10")
    servicer.failures.append(failure(domain.InvalidRequest([violation])))
    with pytest.raises(MinimaError) as caught:
        run(url, "recommend", "task", cost_quality_tradeoff=11)
    error = caught.value
    assert (error.status, error.title, error.reason) == (400, "Invalid request", "REQUEST_INVALID")
    assert error.detail == "invalid request: cost_quality_tradeoff: must be <= 10"
    assert [(v.field, v.description) for v in error.field_violations] == [
        ("cost_quality_tradeoff", "must be <= 10")
    ]
    assert error.request_id == servicer.received[0][2]["x-request-id"]
    assert len(servicer.received) == 1  # not retried


@pytest.mark.parametrize(
    ("error", "reason", "status", "title"),
    [
        (domain.Unauthenticated("unknown key"), "API_KEY_INVALID", 401, "Unauthorized"),
        (domain.NoCandidateModels("no models"), "NO_CANDIDATE_MODELS", 422, "No candidate models"),
        (domain.UnknownModel("chosen_model_id", "x"), "MODEL_UNKNOWN", 400, "Invalid request"),
    ],
)
def test_grpc_codes_map_to_rest_statuses(
    run: Runner,
    stand_in: tuple[str, StandIn],
    error: domain.MinimaError,
    reason: str,
    status: int,
    title: str,
) -> None:
    url, servicer = stand_in
    servicer.failures.append(failure(error))
    with pytest.raises(MinimaError) as caught:
        run(url, "recommend", "task")
    assert (caught.value.status, caught.value.title, caught.value.reason) == (status, title, reason)
    assert not isinstance(caught.value, MinimaTransportError)


def test_server_unavailable_is_retried(run: Runner, stand_in: tuple[str, StandIn]) -> None:
    url, servicer = stand_in
    servicer.failures.extend(
        [
            failure(NotServingError("starting up")),
            grpc.StatusCode.UNAVAILABLE,
        ]
    )
    rec = run(url, "recommend", "task")
    assert rec.recommendation_id == "rec-1"
    assert len(servicer.received) == 3
    assert len({metadata["x-request-id"] for _, _, metadata in servicer.received}) == 1


def test_no_server_is_a_transport_error(run: Runner) -> None:
    with pytest.raises(MinimaTransportError) as caught:
        # Port 1 on loopback refuses; short timeout keeps the retries quick.
        run("grpc://127.0.0.1:1", "health", options={"timeout": 0.5, "max_retries": 1})
    assert "UNAVAILABLE" in caught.value.detail or "DEADLINE" in caught.value.detail


def test_grpcs_scheme_builds_a_tls_channel() -> None:
    # Nothing listens; constructing must work and the call must fail cleanly.
    with (
        MinimaClient("grpcs://127.0.0.1:1", API_KEY, timeout=0.3, max_retries=0) as client,
        pytest.raises(MinimaTransportError),
    ):
        client.health()
