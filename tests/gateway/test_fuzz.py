"""Schema-driven fuzzing over real HTTP: hypothesis draws request bodies from
the request descriptors (with hostile values mixed in) and query strings for
the GET routes. No answer may be a 5xx, and every answer must be either a
response of the documented shape or a problem+json.

FUZZ_EXAMPLES cases per route (6 routes); raise it locally for a longer run.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minima_grpc import v1

from .spec_shapes import violations
from .strategies import HOSTILE, json_bodies

pytestmark = pytest.mark.asyncio(loop_scope="module")

FUZZ_EXAMPLES = int(os.environ.get("MINIMA_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

POST_ROUTES = [
    ("/v1/recommend", v1.RecommendRequest, "RecommendResponse"),
    ("/v1/recommend/workflow", v1.WorkflowRequest, "WorkflowResponse"),
    ("/v1/feedback", v1.FeedbackRequest, "FeedbackResponse"),
]
GET_ROUTES = [
    ("/v1/models", "ListModelsResponse"),
    ("/v1/strategies", "ListStrategiesResponse"),
    ("/v1/health", "GetHealthResponse"),
]
PARAMETERS = ["provider", "task_type", "max_cost", "include_stale", "namespace"]
PARAMETERS += ["lesson_types", "max_strategies", "unknown"]


def check(response: httpx.Response, schema: str) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.headers["content-type"] == "application/json"
        assert violations(response.json(), schema) == []
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert violations(response.json(), "Problem") == []


@pytest.mark.parametrize(("path", "cls", "schema"), POST_ROUTES, ids=[p for p, *_ in POST_ROUTES])
@FUZZ
@given(data=st.data())
async def test_post_bodies(
    client: httpx.AsyncClient, path: str, cls: Any, schema: str, data: st.DataObject
) -> None:
    body = json.dumps(data.draw(json_bodies(cls)))  # ASCII: lone surrogates as \ud800
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    check(response, schema)


QUERIES = st.lists(
    st.tuples(st.sampled_from(PARAMETERS), st.one_of(st.text(max_size=8), HOSTILE.map(str))),
    max_size=4,
)


@pytest.mark.parametrize(("path", "schema"), GET_ROUTES, ids=[p for p, _ in GET_ROUTES])
@FUZZ
@given(query=QUERIES)
async def test_get_queries(
    client: httpx.AsyncClient, path: str, schema: str, query: list[tuple[str, str]]
) -> None:
    check(await client.get(path, params=tuple(query)), schema)
