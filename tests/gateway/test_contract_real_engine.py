"""The contract's shapes with the real engine behind the server (wiring.py,
embedded memory in a temporary directory): recommend, feed back the outcome,
and read every other route; every response checked against the spec's tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from minima_grpc.wiring import build_engine

from .conftest import make_config, running_stack
from .spec_shapes import violations
from .test_contract import RECOMMEND

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def real(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(tmp_path_factory.mktemp("real-engine"))
    async with (
        running_stack(config, build_engine(config)) as stack,
        httpx.AsyncClient(base_url=stack.base_url, headers=stack.auth, timeout=30) as http,
    ):
        yield http


def ok(response: httpx.Response, schema: str) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert violations(body, schema) == []
    return body


async def test_recommend_then_feedback(real: httpx.AsyncClient) -> None:
    recommendation = ok(await real.post("/v1/recommend", json=RECOMMEND), "RecommendResponse")
    feedback = {
        "recommendation_id": recommendation["recommendation_id"],
        "chosen_model_id": recommendation["recommended_model"]["model_id"],
        "outcome": "success",
        "quality_score": 0.9,
        "input_tokens": 180,
        "output_tokens": 640,
    }
    accepted = ok(await real.post("/v1/feedback", json=feedback), "FeedbackResponse")
    assert accepted["accepted"] is True


async def test_plain_string_task(real: httpx.AsyncClient) -> None:
    ok(
        await real.post("/v1/recommend", json={"task": "Translate 'hello' to French."}),
        "RecommendResponse",
    )


async def test_workflow(real: httpx.AsyncClient) -> None:
    steps = [
        {
            "step_id": "extract",
            "task": {"task": "Extract the dates from this memo", "task_type": "extraction"},
        },
        {"step_id": "plan", "task": "Plan the next steps", "depends_on": ["extract"]},
    ]
    ok(await real.post("/v1/recommend/workflow", json={"steps": steps}), "WorkflowResponse")


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("/v1/models", "ListModelsResponse"),
        ("/v1/models?task_type=code&include_stale=false", "ListModelsResponse"),
        ("/v1/strategies?namespace=team-payments", "ListStrategiesResponse"),
        ("/v1/health", "GetHealthResponse"),
    ],
)
async def test_reads(real: httpx.AsyncClient, path: str, schema: str) -> None:
    ok(await real.get(path), schema)
