"""/openapi.json (generated from the descriptors), /docs (offline) and /metrics."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import pytest_asyncio

from minima_grpc import v1
from minima_grpc.gateway.routes import build_routes

from .spec_shapes import SCHEMAS

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def document(anon: httpx.AsyncClient) -> dict[str, Any]:
    response = await anon.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def test_every_route_is_an_operation(document: dict[str, Any]) -> None:
    routes = build_routes([v1.service_pb2.DESCRIPTOR])
    operations = {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert operations == {(r.http_method, r.path): r.method.name for r in routes}
    assert document["openapi"] == "3.0.3"


async def test_every_reference_resolves(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        group, name = re.fullmatch(r"#/components/(\w+)/(\w+)", ref).groups()  # type: ignore[union-attr]
        assert name in document["components"][group], ref


async def test_response_schemas_list_exactly_the_spec_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, fields in SCHEMAS.items():
        if name == "Problem":
            continue
        schema = schemas[name]
        assert set(schema["properties"]) == set(fields), name
        assert set(schema["required"]) == set(fields), name  # always present
    reference_id = schemas["EvidenceRef"]["properties"]["reference_id"]
    assert reference_id["nullable"] is True
    assert "nullable" not in schemas["EvidenceRef"]["properties"]["entry_id"]


async def test_request_schemas_follow_the_json_mapping(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    recommend = schemas["RecommendRequest"]
    assert recommend["additionalProperties"] is False
    assert recommend["required"] == ["task"]
    task = recommend["properties"]["task"]["allOf"][0]["oneOf"]
    assert task[0]["type"] == "string"
    assert task[1] == {"$ref": "#/components/schemas/TaskInput"}
    tradeoff = recommend["properties"]["cost_quality_tradeoff"]
    assert (tradeoff["minimum"], tradeoff["maximum"], tradeoff["nullable"]) == (0, 10, True)
    task_type = schemas["TaskInput"]["properties"]["task_type"]
    assert task_type["enum"][:2] == ["code", "summarization"]
    assert task_type["enum"][-1] is None
    assert schemas["TaskInput"]["properties"]["task"]["minLength"] == 1


async def test_descriptions_come_from_the_proto_comments(document: dict[str, Any]) -> None:
    recommend = document["paths"]["/v1/recommend"]["post"]
    assert recommend["summary"] == "Recommends a model for a single task."
    field = document["components"]["schemas"]["Constraints"]["properties"]["min_quality"]
    assert field["description"] == "Predicted-success floor in [0, 1]; raises the threshold."


async def test_query_parameters_and_security(document: dict[str, Any]) -> None:
    strategies = document["paths"]["/v1/strategies"]["get"]
    params = {p["name"]: p for p in strategies["parameters"] if "name" in p}
    assert params["lesson_types"]["schema"]["type"] == "array"
    assert params["max_strategies"]["schema"]["maximum"] == 50
    assert strategies["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/v1/health"]["get"]["security"] == []


async def test_docs_page_works_offline(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset
        served = await anon.get(f"/{asset}")
        assert served.status_code == 200, asset
        assert len(served.content) > 1000
    assert 'url: "openapi.json"' in page.text


async def test_metrics_show_the_server_and_the_gateway(anon: httpx.AsyncClient) -> None:
    await anon.get("/v1/health")
    await anon.get("/v1/nowhere-7f3a")
    response = await anon.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    grpc_line = re.search(r"^grpc_server_handled_total\{.*GetHealth.*\} [1-9]", text, re.M)
    assert grpc_line is not None
    assert 'grpc_code="OK"' in grpc_line.group(0)
    assert re.search(
        r'minima_http_requests_total\{method="GET",route="/v1/health",status="200"\} [1-9]', text
    )
    # Unmatched paths share one label, so clients cannot grow the series.
    assert "nowhere-7f3a" not in text
    assert 'route="unmatched",status="404"' in text
