"""Every documented error status, provoked over real HTTP, as problem+json.

Bad input is answered without reaching the engine (it changes nothing) and
never shows a traceback or internals.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import BODY_LIMIT, Stack
from .engine_double import CRASH, NAN, NO_CANDIDATES, SECRET, SLEEP
from .spec_shapes import violations

pytestmark = pytest.mark.asyncio(loop_scope="module")


def problem(response: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert violations(body, "Problem") == []
    assert (body["type"], body["title"], body["status"]) == ("about:blank", title, status)
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


TITLES = {400: "Invalid request", 413: "Content too large", 415: "Unsupported media type"}


async def assert_rejected_before_engine(
    client: httpx.AsyncClient, stack: Stack, request: dict[str, Any], status: int
) -> dict[str, Any]:
    stack.engine.last.clear()
    body = problem(await client.request(**request), status, TITLES[status])
    assert stack.engine.last == {}
    return body


# --- 400 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"{", b"", b"[1, 2", b'{"task": NaN}', b'{"task": Infinity}', b"\xff\xfe{}", b"[" * 5000],
)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, stack: Stack, content: bytes
) -> None:
    request = {
        "method": "POST",
        "url": "/v1/recommend",
        "content": content,
        "headers": {"content-type": "application/json"},
    }
    body = await assert_rejected_before_engine(client, stack, request, 400)
    assert body["detail"].startswith(("malformed JSON", "the request body is not UTF-8"))


async def test_wrong_types_and_unknown_fields_are_all_listed(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    sent = {
        "task": {"task": 42, "task_type": "CODE", "tags": "python"},
        "cost_quality_tradeoff": "high",
        "max_candidates": 2.5,
        "explain": "yes",
        "constraints": {"allowed_providers": [None], "max_latency_ms": 2**40},
        "surprise": 1,
    }
    request = {"method": "POST", "url": "/v1/recommend", "json": sent}
    body = await assert_rejected_before_engine(client, stack, request, 400)

    fields = {v["field"] for v in body["field_violations"]}
    assert fields == {
        "task.task",
        "task.task_type",
        "task.tags",
        "cost_quality_tradeoff",
        "max_candidates",
        "explain",
        "constraints.allowed_providers[0]",
        "constraints.max_latency_ms",
        "surprise",
    }
    for field in fields:
        assert field in body["detail"]


@pytest.mark.parametrize("content", [rb'{"task": "\ud800"}', rb'{"\udfff": 1, "task": "hi"}'])
async def test_lone_surrogates_are_400(
    client: httpx.AsyncClient, stack: Stack, content: bytes
) -> None:
    request = {
        "method": "POST",
        "url": "/v1/recommend",
        "content": content,
        "headers": {"content-type": "application/json"},
    }
    await assert_rejected_before_engine(client, stack, request, 400)


async def test_top_level_must_be_an_object(client: httpx.AsyncClient, stack: Stack) -> None:
    request = {"method": "POST", "url": "/v1/feedback", "json": ["success"]}
    body = await assert_rejected_before_engine(client, stack, request, 400)
    assert "JSON object" in body["detail"]


async def test_camel_case_fields_are_rejected_with_a_hint(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    sent = {"task": "hi", "costQualityTradeoff": 3}
    request = {"method": "POST", "url": "/v1/recommend", "json": sent}
    body = await assert_rejected_before_engine(client, stack, request, 400)
    assert body["field_violations"] == [
        {
            "field": "costQualityTradeoff",
            "description": "unknown field; field names are snake_case: "
            "did you mean 'cost_quality_tradeoff'?",
        }
    ]


async def test_server_validation_failures_are_400_with_every_violation(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    sent = {"task": {"task": ""}, "cost_quality_tradeoff": 11, "max_candidates": 0}
    stack.engine.last.clear()
    body = problem(await client.post("/v1/recommend", json=sent), 400, "Invalid request")

    assert body["reason"] == "REQUEST_INVALID"
    fields = {v["field"] for v in body["field_violations"]}
    assert fields == {"task.task", "cost_quality_tradeoff", "max_candidates"}
    assert stack.engine.last == {}


async def test_missing_required_fields_are_400(client: httpx.AsyncClient, stack: Stack) -> None:
    body = problem(await client.post("/v1/feedback", json={}), 400, "Invalid request")
    fields = {v["field"] for v in body["field_violations"]}
    assert {"recommendation_id", "chosen_model_id", "outcome"} <= fields


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("max_cost=cheap", "max_cost"),
        ("max_cost=nan", "max_cost"),
        ("task_type=poetry", "task_type"),
        ("include_stale=maybe", "include_stale"),
        ("provider=a&provider=b", "provider"),
        ("color=red", "color"),
    ],
)
async def test_bad_query_parameters_are_400(
    client: httpx.AsyncClient, stack: Stack, query: str, field: str
) -> None:
    request = {"method": "GET", "url": f"/v1/models?{query}"}
    body = await assert_rejected_before_engine(client, stack, request, 400)
    assert [v["field"] for v in body["field_violations"]] == [field]


async def test_query_range_is_checked_by_the_server(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/v1/strategies?max_strategies=51"), 400, "Invalid request")
    assert [v["field"] for v in body["field_violations"]] == ["max_strategies"]


@pytest.mark.parametrize("value", ["soon", "10", "0S", "123456789S", "1.5S"])
async def test_malformed_grpc_timeout_is_400(
    client: httpx.AsyncClient, stack: Stack, value: str
) -> None:
    request = {"method": "GET", "url": "/v1/models", "headers": {"grpc-timeout": value}}
    body = await assert_rejected_before_engine(client, stack, request, 400)
    assert "Grpc-Timeout" in body["detail"]


# --- 401 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer mk_000000000000_nope"}, {"authorization": "Basic abc"}],
)
async def test_missing_or_invalid_key_is_401(
    anon: httpx.AsyncClient, stack: Stack, headers: dict[str, str]
) -> None:
    stack.engine.last.clear()
    response = await anon.post("/v1/recommend", json={"task": "hi"}, headers=headers)
    body = problem(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert body["reason"] == "API_KEY_INVALID"
    assert stack.engine.last == {}


# --- 422, 5xx from the server ------------------------------------------------


async def test_no_candidate_models_is_422(client: httpx.AsyncClient) -> None:
    sent = {"task": f"{NO_CANDIDATES} please", "constraints": {"candidate_models": ["x"]}}
    body = problem(await client.post("/v1/recommend", json=sent), 422, "No candidate models")
    assert body["reason"] == "NO_CANDIDATE_MODELS"
    assert body["detail"] == "no models match the supplied constraints"


async def test_engine_crash_is_a_generic_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/recommend", json={"task": CRASH})
    body = problem(response, 500, "Internal error")
    assert SECRET not in response.text
    assert body["detail"] == "internal error; quote the request id when reporting it"


async def test_unrenderable_reply_is_a_generic_500_from_the_gateway(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/recommend", json={"task": NAN})
    problem(response, 500, "Internal error")


async def test_deadline_from_grpc_timeout_is_504(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/recommend", json={"task": f"{SLEEP}2"}, headers={"grpc-timeout": "100m"}
    )
    problem(response, 504, "Deadline exceeded")


# --- errors the adapter raises itself ----------------------------------------


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/recommend/", "/v2/recommend", "/"])
async def test_unknown_route_is_404(client: httpx.AsyncClient, path: str) -> None:
    body = problem(await client.get(path), 404, "Not found")
    assert path in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/recommend", "POST"),
        ("DELETE", "/v1/feedback", "POST"),
        ("POST", "/v1/health", "GET, HEAD"),
        ("PUT", "/v1/models", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_with_allow(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path, json={})
    problem(response, 405, "Method not allowed")
    assert set(response.headers["allow"].split(", ")) == set(allow.split(", "))


async def test_body_over_the_limit_is_413_before_parsing(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    # Not even JSON: the limit is enforced before the body is parsed.
    request = {
        "method": "POST",
        "url": "/v1/recommend",
        "content": b"x" * (BODY_LIMIT + 1),
        "headers": {"content-type": "application/json"},
    }
    body = await assert_rejected_before_engine(client, stack, request, 413)
    assert str(BODY_LIMIT) in body["detail"]


async def test_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient, stack: Stack) -> None:
    async def chunks() -> Any:  # no Content-Length: chunked transfer
        for _ in range(BODY_LIMIT // 1024 + 1):
            yield b" " * 1024

    stack.engine.last.clear()
    response = await client.post(
        "/v1/recommend", content=chunks(), headers={"content-type": "application/json"}
    )
    problem(response, 413, "Content too large")
    assert stack.engine.last == {}


async def test_body_at_the_limit_is_parsed(client: httpx.AsyncClient) -> None:
    body = b'{"task": "hi"}'
    padded = body + b" " * (BODY_LIMIT - len(body))
    response = await client.post(
        "/v1/recommend", content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_non_json_body_is_415(
    client: httpx.AsyncClient, stack: Stack, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    request = {"method": "POST", "url": "/v1/recommend", "content": b'{"task": "hi"}'}
    body = await assert_rejected_before_engine(client, stack, {**request, "headers": headers}, 415)
    assert "application/json" in body["detail"]


async def test_json_with_utf8_charset_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/recommend",
        content='{"task": "résumé ✓"}'.encode(),
        headers={"content-type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
