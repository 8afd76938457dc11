"""The servicer's proto <-> domain conversion, observed through a real call.

The engine double records what it received; the client checks what came back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from minima_grpc import v1
from minima_grpc.engine import types as d
from tests.conftest import OpenChannel, RunningServer, StartServer
from tests.server.fakes import RecordingEngine


async def _connect(
    start_server: StartServer, open_channel: OpenChannel
) -> tuple[RecordingEngine, RunningServer, v1.service_pb2_grpc.RecommendationServiceAsyncStub]:
    engine = RecordingEngine()
    running = await start_server(engine)
    return engine, running, v1.RecommendationServiceStub(open_channel(running.address))


async def test_recommend_request_keeps_unset_fields_unset(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine, running, stub = await _connect(start_server, open_channel)
    await stub.Recommend(v1.RecommendRequest(task=v1.TaskInput(task="hi")), metadata=running.auth)
    await stub.Recommend(
        v1.RecommendRequest(
            task=v1.TaskInput(
                task="merge k sorted lists",
                task_type=v1.TaskType.TASK_TYPE_CODE,
                difficulty=v1.Difficulty.DIFFICULTY_HARD,
                expected_input_tokens=0,
                expected_output_tokens=600,
                tags=["lang:python"],
            ),
            cost_quality_tradeoff=0.0,
            constraints=v1.Constraints(
                excluded_models=["old"], min_quality=0.8, require_prompt_caching=False
            ),
            max_candidates=3,
            allow_llm_escalation=False,
            explain=False,
        ),
        metadata=running.auth,
    )
    minimal, full = (request for name, _, request in engine.calls if name == "recommend")
    assert minimal == d.RecommendRequest(task=d.TaskInput(task="hi"))
    assert full == d.RecommendRequest(
        task=d.TaskInput(
            task="merge k sorted lists",
            task_type=d.TaskType.CODE,
            difficulty=d.Difficulty.HARD,
            expected_input_tokens=0,  # set to zero is not unset
            expected_output_tokens=600,
            tags=("lang:python",),
        ),
        cost_quality_tradeoff=0.0,
        constraints=d.Constraints(
            excluded_models=("old",), min_quality=0.8, require_prompt_caching=False
        ),
        max_candidates=3,
        allow_llm_escalation=False,
        explain=False,
    )


async def test_recommend_response_round_trip(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    _, running, stub = await _connect(start_server, open_channel)
    response = await stub.Recommend(
        v1.RecommendRequest(task=v1.TaskInput(task="hi")), metadata=running.auth
    )
    assert response.recommendation_id == "rec-1"
    assert response.recommended_model.model_id == "small-model"
    assert dict(response.recommended_model.est_cost_breakdown) == {
        "input": 0.0001,
        "output": 0.0003,
    }
    assert response.decision_basis == v1.DecisionBasis.DECISION_BASIS_MEMORY
    assert response.classified_task_type == v1.TaskType.TASK_TYPE_CODE
    assert response.classified_difficulty == v1.Difficulty.DIFFICULTY_HARD
    assert not response.HasField("fallback_model")
    evidence = response.recommended_model.evidence[0]
    assert evidence.entry_id == "e-1"
    assert not evidence.HasField("reference_id")
    assert list(response.warnings) == ["cold_start"]


async def test_workflow_steps_keep_their_own_constraints(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine, running, stub = await _connect(start_server, open_channel)
    response = await stub.RecommendWorkflow(
        v1.WorkflowRequest(
            steps=[
                v1.WorkflowStep(step_id="plan", task=v1.TaskInput(task="plan")),
                v1.WorkflowStep(
                    step_id="code",
                    task=v1.TaskInput(task="code"),
                    constraints=v1.Constraints(max_cost_per_call=0.01),
                    depends_on=["plan"],
                ),
            ],
            constraints=v1.Constraints(allowed_providers=["acme"]),
            namespace="team-x",
        ),
        metadata=running.auth,
    )
    ((_, scope, request),) = [(n, s, r) for n, s, r in engine.calls if n == "recommend_workflow"]
    assert isinstance(request, d.WorkflowRequest)
    assert scope is not None
    assert scope.namespace == "team-x"
    assert scope.user_id is None
    assert request.steps[0].constraints is None  # no override
    assert request.steps[1].constraints == d.Constraints(max_cost_per_call=0.01)
    assert request.steps[1].depends_on == ("plan",)
    assert request.constraints == d.Constraints(allowed_providers=("acme",))
    assert [s.step_id for s in response.steps] == ["plan", "code"]


async def test_feedback_conversion(start_server: StartServer, open_channel: OpenChannel) -> None:
    engine, running, stub = await _connect(start_server, open_channel)
    response = await stub.SubmitFeedback(
        v1.FeedbackRequest(
            recommendation_id="rec-1",
            chosen_model_id="small-model",
            outcome=v1.Outcome.OUTCOME_PARTIAL,
            output_tokens=640,
            verified_in_production=True,
        ),
        metadata=running.auth,
    )
    ((_, scope, request),) = [(n, s, r) for n, s, r in engine.calls if n == "feedback"]
    assert scope == d.Scope(tenant="tenant-a")
    assert request == d.FeedbackRequest(
        recommendation_id="rec-1",
        chosen_model_id="small-model",
        outcome=d.Outcome.PARTIAL,
        output_tokens=640,
        verified_in_production=True,
    )
    assert response.accepted
    assert response.record_id == "r-1"
    assert not response.HasField("updated_confidence")


async def test_models_and_strategies(start_server: StartServer, open_channel: OpenChannel) -> None:
    engine, running, stub = await _connect(start_server, open_channel)
    models = await stub.ListModels(
        v1.ListModelsRequest(task_type=v1.TaskType.TASK_TYPE_RAG, include_stale=False),
        metadata=running.auth,
    )
    strategies = await stub.ListStrategies(
        v1.ListStrategiesRequest(namespace="team-x", max_strategies=2), metadata=running.auth
    )
    queries = {name: request for name, _, request in engine.calls}
    assert queries["list_models"] == d.ModelsQuery(task_type=d.TaskType.RAG, include_stale=False)
    assert queries["strategies"] == d.StrategiesQuery(max_strategies=2)

    card = models.models[0]
    assert card.cost_fetched_at.ToDatetime(tzinfo=UTC) == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert not card.HasField("cache_read_cost_per_mtok")
    assert not card.HasField("max_output_tokens")
    assert (strategies.namespace, strategies.lane, strategies.count) == (
        "team-x",
        "minima:team-x",
        0,
    )
