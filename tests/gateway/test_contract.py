"""Golden request per documented route over real HTTP; every response checked
field by field against the spec's tables (spec_shapes.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from minima_grpc.engine import types as d

from .conftest import Stack
from .engine_double import KNOWN_RECOMMENDATION
from .spec_shapes import violations

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The spec's own curl example for POST /v1/recommend.
RECOMMEND: dict[str, Any] = {
    "task": {
        "task": "Write a Python function that merges k sorted linked lists.",
        "task_type": "code",
        "difficulty": "hard",
        "expected_input_tokens": 180,
        "expected_output_tokens": 600,
        "tags": ["lang:python"],
    },
    "cost_quality_tradeoff": 3,
    "constraints": {"min_quality": 0.8, "excluded_models": ["some-deprecated-model"]},
    "namespace": "team-payments",
}

# The spec's feedback example.
FEEDBACK = {
    "recommendation_id": KNOWN_RECOMMENDATION,
    "chosen_model_id": "claude-haiku-4-5",
    "outcome": "success",
    "quality_score": 0.95,
    "input_tokens": 180,
    "output_tokens": 640,
    "actual_cost_usd": 0.0034,
    "verified_in_production": True,
}


def ok_json(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def test_recommend_golden(client: httpx.AsyncClient, stack: Stack) -> None:
    body = ok_json(await client.post("/v1/recommend", json=RECOMMEND))

    assert violations(body, "RecommendResponse") == []
    assert body["recommended_model"]["model_id"] == "cheap-model"
    assert body["fallback_model"]["model_id"] == "strong-model"
    assert body["ranked"][0]["evidence"][1]["reference_id"] is None
    scope, request = stack.engine.last["recommend"]
    assert scope.tenant == "tenant-a"
    assert scope.namespace == "team-payments"
    assert request.task == d.TaskInput(
        task=RECOMMEND["task"]["task"],
        task_type=d.TaskType.CODE,
        difficulty=d.Difficulty.HARD,
        expected_input_tokens=180,
        expected_output_tokens=600,
        tags=("lang:python",),
    )
    assert request.cost_quality_tradeoff == 3.0
    assert request.constraints.min_quality == 0.8
    assert request.constraints.excluded_models == ("some-deprecated-model",)


async def test_recommend_plain_string_task_and_nulls_leave_defaults_to_the_server(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    # The reference client sends every field, unset ones as null.
    sent = {
        "task": "Summarize this incident report into 3 bullets.",
        "cost_quality_tradeoff": None,
        "constraints": None,
        "user_id": None,
        "namespace": None,
        "max_candidates": None,
        "allow_llm_escalation": None,
        "explain": None,
    }
    body = ok_json(await client.post("/v1/recommend", json=sent))

    assert violations(body, "RecommendResponse") == []
    scope, request = stack.engine.last["recommend"]
    assert request.task == d.TaskInput(task="Summarize this incident report into 3 bullets.")
    assert (request.cost_quality_tradeoff, request.max_candidates, request.explain) == (
        None,
        None,
        None,
    )
    assert request.constraints == d.Constraints()
    assert scope.namespace is None
    assert scope.user_id is None


async def test_workflow_golden(client: httpx.AsyncClient, stack: Stack) -> None:
    sent = {
        "steps": [
            {
                "step_id": "extract",
                "task": {"task": "Extract entities from the report", "task_type": "extraction"},
            },
            {
                "step_id": "reason",
                "task": "Decide the next action given the entities",
                "constraints": {"require_prompt_caching": False},
                "depends_on": ["extract"],
            },
        ],
        "cost_quality_tradeoff": 4,
        "constraints": {"require_prompt_caching": True, "allowed_providers": ["acme"]},
    }
    body = ok_json(await client.post("/v1/recommend/workflow", json=sent))

    assert violations(body, "WorkflowResponse") == []
    assert [step["step_id"] for step in body["steps"]] == ["extract", "reason"]
    _, request = stack.engine.last["workflow"]
    assert request.steps[1].task == d.TaskInput(task="Decide the next action given the entities")
    assert request.steps[1].depends_on == ("extract",)


async def test_feedback_golden(client: httpx.AsyncClient, stack: Stack) -> None:
    body = ok_json(await client.post("/v1/feedback", json=FEEDBACK))

    assert violations(body, "FeedbackResponse") == []
    assert body["accepted"] is True
    assert body["record_id"] == "record-1"
    _, request = stack.engine.last["feedback"]
    assert request.outcome == d.Outcome.SUCCESS
    assert (request.quality_score, request.output_tokens, request.latency_ms) == (0.95, 640, None)


async def test_feedback_unknown_recommendation_renders_nulls(client: httpx.AsyncClient) -> None:
    sent = {**FEEDBACK, "recommendation_id": "never-issued"}
    body = ok_json(await client.post("/v1/feedback", json=sent))

    assert violations(body, "FeedbackResponse") == []
    assert body["accepted"] is False
    assert (body["record_id"], body["updated_confidence"]) == (None, None)
    assert body["reinforced_entry_ids"] == []
    assert body["warnings"] == ["unknown_recommendation"]


async def test_models_golden(client: httpx.AsyncClient, stack: Stack) -> None:
    params = {"provider": "Acme", "task_type": "code", "max_cost": "10", "include_stale": "false"}
    body = ok_json(await client.get("/v1/models", params=params))

    assert violations(body, "ListModelsResponse") == []
    full, sparse = body["models"]
    assert full["cost_fetched_at"] == "2026-01-01T12:30:00Z"
    assert (sparse["cache_read_cost_per_mtok"], sparse["max_output_tokens"]) == (None, None)
    assert stack.engine.last["models"] == d.ModelsQuery("Acme", d.TaskType.CODE, 10.0, False)


async def test_models_without_parameters_leaves_every_filter_unset(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    assert violations(ok_json(await client.get("/v1/models")), "ListModelsResponse") == []
    assert stack.engine.last["models"] == d.ModelsQuery()


async def test_strategies_golden(client: httpx.AsyncClient, stack: Stack) -> None:
    query = "namespace=team-payments&lesson_types=success&lesson_types=failure&max_strategies=3"
    body = ok_json(await client.get(f"/v1/strategies?{query}"))

    assert violations(body, "ListStrategiesResponse") == []
    assert (body["namespace"], body["lane"], body["count"]) == (
        "team-payments",
        "minima:team-payments",
        1,
    )
    scope, request = stack.engine.last["strategies"]
    assert scope.namespace == "team-payments"
    assert request == d.StrategiesQuery(("success", "failure"), 3)


async def test_strategies_without_namespace_is_null(client: httpx.AsyncClient) -> None:
    body = ok_json(await client.get("/v1/strategies"))

    assert violations(body, "ListStrategiesResponse") == []
    assert (body["namespace"], body["lane"]) == (None, "minima:default")


async def test_health_without_key(anon: httpx.AsyncClient) -> None:
    body = ok_json(await anon.get("/v1/health"))

    assert violations(body, "GetHealthResponse") == []
    assert body["status"] == "ok"
    assert body["memory"] == {"reachable": None, "latency_ms": None}


async def test_health_with_key_checks_memory(client: httpx.AsyncClient) -> None:
    body = ok_json(await client.get("/v1/health"))

    assert violations(body, "GetHealthResponse") == []
    assert body["memory"] == {"reachable": True, "latency_ms": 2}
