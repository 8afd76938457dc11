"""The REST transport against loopback HTTP servers: the documented requests
go out, answers become typed models, errors and retries behave as documented.
Every test runs through both MinimaClient and AsyncMinimaClient."""

from __future__ import annotations

import socket
from typing import Any

import pydantic
import pytest
from minima_client import (
    Constraints,
    FeedbackResponse,
    MinimaClient,
    MinimaError,
    MinimaResponseError,
    MinimaTransportError,
    ModelsResponse,
    RecommendResponse,
    StrategiesResponse,
    TaskInput,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
)

from tests.client.client_support import (
    API_KEY,
    FakeHttp,
    Reply,
    Runner,
    feedback_body,
    problem,
    recommend_body,
    sequence,
)


def test_recommend_sends_every_keyword(run: Runner, fake_minima: FakeHttp) -> None:
    rec = run(
        fake_minima.url,
        "recommend",
        TaskInput(task="Merge k sorted lists.", task_type="code", difficulty="hard",
                  expected_input_tokens=180, expected_output_tokens=600, tags=["lang:python"]),
        cost_quality_tradeoff=3,
        constraints=Constraints(min_quality=0.8, excluded_models=["old-model"]),
        user_id="u1",
        namespace="team-payments",
        max_candidates=12,
        allow_llm_escalation=False,
        explain=False,
    )  # fmt: skip
    [sent] = fake_minima.requests("/v1/recommend")
    assert sent.method == "POST"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["x-request-id"]
    assert sent.body == {
        "task": {
            "task": "Merge k sorted lists.",
            "task_type": "code",
            "difficulty": "hard",
            "expected_input_tokens": 180,
            "expected_output_tokens": 600,
            "tags": ["lang:python"],
        },
        "cost_quality_tradeoff": 3,
        "constraints": {"min_quality": 0.8, "excluded_models": ["old-model"]},
        "user_id": "u1",
        "namespace": "team-payments",
        "max_candidates": 12,
        "allow_llm_escalation": False,
        "explain": False,
    }
    assert isinstance(rec, RecommendResponse)
    assert rec.recommended_model.model_id == "gpt-4o-mini"
    assert rec.fallback_model is None
    assert rec.ranked[0].evidence[0].reference_id is None


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("plain prompt", {"task": "plain prompt"}),
        ({"task": "t", "task_type": "code"}, {"task": "t", "task_type": "code"}),
    ],
)
def test_none_keywords_are_left_to_the_server(
    run: Runner, fake_minima: FakeHttp, task: Any, expected: dict[str, Any]
) -> None:
    run(fake_minima.url, "recommend", task, cost_quality_tradeoff=None, explain=None)
    [sent] = fake_minima.requests("/v1/recommend")
    assert sent.body == {"task": expected}


def test_workflow_round_trip(run: Runner, fake_minima: FakeHttp) -> None:
    request = WorkflowRequest(
        steps=[
            WorkflowStep(step_id="extract", task=TaskInput(task="Extract", task_type="extraction")),
            WorkflowStep(
                step_id="reason",
                task=TaskInput(task="Decide", difficulty="hard"),
                constraints=Constraints(require_prompt_caching=False),
                depends_on=["extract"],
            ),
        ],
        cost_quality_tradeoff=4,
        allow_llm_escalation=True,
    )
    wf = run(fake_minima.url, "recommend_workflow", request)
    [sent] = fake_minima.requests("/v1/recommend/workflow")
    assert sent.body == {
        "steps": [
            {"step_id": "extract", "task": {"task": "Extract", "task_type": "extraction"}},
            {
                "step_id": "reason",
                "task": {"task": "Decide", "difficulty": "hard"},
                "constraints": {"require_prompt_caching": False},
                "depends_on": ["extract"],
            },
        ],
        "cost_quality_tradeoff": 4,
        "allow_llm_escalation": True,
    }
    assert isinstance(wf, WorkflowResponse)
    assert [s.recommendation.recommendation_id for s in wf.steps] == ["rec-a", "rec-b"]
    assert wf.total_est_cost_if_all_premium > wf.total_est_cost_usd


def test_feedback_sends_every_keyword(run: Runner, fake_minima: FakeHttp) -> None:
    answer = run(
        fake_minima.url, "feedback", "rec-1", "claude-haiku-4-5", "success",
        quality_score=0.95, input_tokens=180, output_tokens=640, actual_cost_usd=0.0034,
        latency_ms=2100, verified_in_production=True, notes="ok", idempotency_key="k-1",
    )  # fmt: skip
    [sent] = fake_minima.requests("/v1/feedback")
    assert sent.body == {
        "recommendation_id": "rec-1",
        "chosen_model_id": "claude-haiku-4-5",
        "outcome": "success",
        "quality_score": 0.95,
        "input_tokens": 180,
        "output_tokens": 640,
        "actual_cost_usd": 0.0034,
        "latency_ms": 2100,
        "verified_in_production": True,
        "notes": "ok",
        "idempotency_key": "k-1",
    }
    assert isinstance(answer, FeedbackResponse)
    assert answer.accepted
    assert answer.record_id == "r-1"


def test_feedback_always_carries_a_stable_idempotency_key(
    run: Runner, fake_minima: FakeHttp
) -> None:
    run(fake_minima.url, "feedback", "rec-1", "gpt-4o-mini", "success")
    run(fake_minima.url, "feedback", "rec-1", "gpt-4o-mini", "failure")
    run(fake_minima.url, "feedback", "rec-1", "claude-haiku-4-5", "success")
    keys = [r.body["idempotency_key"] for r in fake_minima.requests("/v1/feedback")]
    assert keys[0]
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]
    assert fake_minima.requests("/v1/feedback")[0].body == {
        "recommendation_id": "rec-1",
        "chosen_model_id": "gpt-4o-mini",
        "outcome": "success",
        "idempotency_key": keys[0],
    }


def test_models_and_strategies_use_query_parameters(run: Runner, fake_minima: FakeHttp) -> None:
    catalog = run(
        fake_minima.url, "models", provider="anthropic", task_type="code", max_cost=10.0,
        include_stale=False,
    )  # fmt: skip
    strategies = run(
        fake_minima.url, "strategies", namespace="team-payments", max_strategies=5,
        lesson_types=["success", "failure"],
    )  # fmt: skip
    [models_sent] = fake_minima.requests("/v1/models")
    [strategies_sent] = fake_minima.requests("/v1/strategies")
    assert models_sent.method == strategies_sent.method == "GET"
    assert models_sent.query == [
        ("provider", "anthropic"),
        ("task_type", "code"),
        ("max_cost", "10.0"),
        ("include_stale", "false"),
    ]
    assert strategies_sent.query == [
        ("namespace", "team-payments"),
        ("lesson_types", "success"),
        ("lesson_types", "failure"),
        ("max_strategies", "5"),
    ]
    assert isinstance(catalog, ModelsResponse)
    haiku = catalog.models[1]
    assert haiku.cache_read_cost_per_mtok is None
    assert haiku.cost_fetched_at is None
    assert catalog.models[0].cost_fetched_at is not None
    assert catalog.models[0].cost_fetched_at.year == 2026
    assert isinstance(strategies, StrategiesResponse)
    assert strategies.lane == "minima:team-payments"
    assert strategies.strategies[0].lesson_ids == ["l1", "l2", "l3"]


def test_health_is_a_dict(run: Runner, fake_minima: FakeHttp) -> None:
    status = run(fake_minima.url, "health")
    assert status["status"] == "ok"
    assert status["memory"] == {"reachable": True, "latency_ms": 12}


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "status", "title", "reason"),
    [
        (
            problem(
                400,
                "Invalid request",
                "request has 1 invalid field",
                reason="REQUEST_INVALID",
                field_violations=[{"field": "cost_quality_tradeoff", "description": "<= 10"}],
            ),
            400,
            "Invalid request",
            "REQUEST_INVALID",
        ),
        (problem(401, "Unauthorized", "missing or invalid key"), 401, "Unauthorized", None),
        (
            problem(422, "No candidate models", "no models match", reason="NO_CANDIDATE_MODELS"),
            422,
            "No candidate models",
            "NO_CANDIDATE_MODELS",
        ),
    ],
)
def test_api_errors_raise_minima_error_once(
    run: Runner, reply: Reply, status: int, title: str, reason: str | None
) -> None:
    with FakeHttp({("POST", "/v1/recommend"): sequence(reply)}) as fake:
        with pytest.raises(MinimaError) as caught:
            run(fake.url, "recommend", "task")
        assert len(fake.requests("/v1/recommend")) == 1  # 4xx never retries
    error = caught.value
    assert not isinstance(error, MinimaTransportError)
    assert (error.status, error.title, error.reason) == (status, title, reason)
    assert error.detail == reply.body["detail"]
    assert error.request_id == "rid-from-server"
    assert error.body == reply.body
    assert not error.retryable
    if status == 400:
        assert [(v.field, v.description) for v in error.field_violations] == [
            ("cost_quality_tradeoff", "<= 10")
        ]
        assert "cost_quality_tradeoff: <= 10" in str(error)


def test_non_json_error_body_still_gives_a_clear_error(run: Runner) -> None:
    page = Reply(404, "<html>not here</html>", content_type="text/html")
    with (
        FakeHttp({("GET", "/v1/health"): sequence(page)}) as fake,
        pytest.raises(MinimaError) as caught,
    ):
        run(fake.url, "health")
    assert caught.value.status == 404
    assert caught.value.title == "Not Found"
    assert "not here" in caught.value.detail


def test_contract_break_is_a_response_error_and_not_retried(run: Runner) -> None:
    body = recommend_body()
    del body["recommended_model"]
    with FakeHttp({("POST", "/v1/recommend"): sequence(Reply(body=body))}) as fake:
        with pytest.raises(MinimaResponseError, match="recommended_model"):
            run(fake.url, "recommend", "task")
        assert len(fake.requests("/v1/recommend")) == 1


def test_wrong_types_are_a_contract_break(run: Runner) -> None:
    body = recommend_body()
    body["confidence"] = "0.62"  # a number sent as a string
    with (
        FakeHttp({("POST", "/v1/recommend"): sequence(Reply(body=body))}) as fake,
        pytest.raises(MinimaResponseError, match="confidence"),
    ):
        run(fake.url, "recommend", "task")


def test_unknown_response_fields_are_tolerated(run: Runner) -> None:
    body = {**recommend_body(), "added_in_a_later_version": {"x": 1}}
    with FakeHttp({("POST", "/v1/recommend"): sequence(Reply(body=body))}) as fake:
        rec = run(fake.url, "recommend", "task")
    assert rec.recommendation_id == "rec-1"


# -- retries ---------------------------------------------------------------------


def test_retries_503_twice_then_succeeds(run: Runner) -> None:
    unavailable = problem(503, "Service unavailable", "warming up")
    flaky = sequence(unavailable, unavailable, Reply(body=recommend_body()))
    with FakeHttp({("POST", "/v1/recommend"): flaky}) as fake:
        rec = run(fake.url, "recommend", "task")
        attempts = fake.requests("/v1/recommend")
    assert rec.recommendation_id == "rec-1"
    assert len(attempts) == 3
    # One logical call: the same request id and body on every attempt.
    assert len({a.headers["x-request-id"] for a in attempts}) == 1
    assert attempts[0].body == attempts[2].body


@pytest.mark.parametrize("status", [502, 503, 504])
def test_feedback_retries_with_the_same_idempotency_key(run: Runner, status: int) -> None:
    gateway = Reply(status, "bad gateway", content_type="text/plain")
    flaky = sequence(gateway, Reply(body=feedback_body()))
    with FakeHttp({("POST", "/v1/feedback"): flaky}) as fake:
        answer = run(fake.url, "feedback", "rec-1", "gpt-4o-mini", "partial")
        attempts = fake.requests("/v1/feedback")
    assert answer.accepted
    assert len(attempts) == 2
    assert attempts[0].body["idempotency_key"] == attempts[1].body["idempotency_key"]


def test_retries_are_bounded(run: Runner) -> None:
    unavailable = problem(503, "Service unavailable", "down")
    with FakeHttp({("GET", "/v1/models"): sequence(unavailable)}) as fake:
        with pytest.raises(MinimaError) as caught:
            run(fake.url, "models", options={"max_retries": 3})
        assert len(fake.requests("/v1/models")) == 4
    assert caught.value.status == 503
    assert caught.value.retryable


def test_unreachable_server_is_a_transport_error(run: Runner) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MinimaTransportError) as caught:
        run(f"http://127.0.0.1:{port}", "health")
    assert caught.value.status is None
    assert caught.value.request_id
    assert "Connect" in caught.value.detail


# -- local validation --------------------------------------------------------------


def test_malformed_arguments_fail_before_anything_is_sent(
    run: Runner, fake_minima: FakeHttp
) -> None:
    with pytest.raises(pydantic.ValidationError, match="taks"):
        run(fake_minima.url, "recommend", {"taks": "typo"})
    with pytest.raises(pydantic.ValidationError, match="outcome"):
        run(fake_minima.url, "feedback", "rec-1", "gpt-4o-mini", "great")
    assert fake_minima.log == []


@pytest.mark.parametrize(
    ("base_url", "api_key", "message"),
    [
        ("ftp://host", "k", "base_url"),
        ("localhost:8080", "k", "base_url"),
        ("grpc://host:50051/prefix", "k", "no path"),
        ("http://host", "", "api_key"),
        ("http://host", "  ", "api_key"),
    ],
)
def test_bad_settings_are_rejected(base_url: str, api_key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinimaClient(base_url, api_key)
