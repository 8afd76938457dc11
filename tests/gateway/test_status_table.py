"""The gRPC code -> HTTP status table, exhaustively, over real HTTP.

The gateway runs alone (as `minima gateway` does) in front of a SCRIPTED gRPC
server: a real grpc.aio server whose Recommend handler fails with the code
named in the task text, with the rich details a Minima server attaches. It is
a stand-in for the Minima server because no real request makes the service
return most of these codes. The expected table is the brief's, written out
here independently of the gateway's own.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import pytest_asyncio
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped, unused-ignore]
from grpc_status import rpc_status

from minima_grpc import v1
from minima_grpc.gateway import serve_gateway

from .conftest import make_config
from .spec_shapes import violations

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXPECTED = {
    "CANCELLED": (499, "Client closed request"),
    "UNKNOWN": (500, "Internal error"),
    "INVALID_ARGUMENT": (400, "Invalid request"),
    "DEADLINE_EXCEEDED": (504, "Deadline exceeded"),
    "NOT_FOUND": (404, "Not found"),
    "ALREADY_EXISTS": (409, "Conflict"),
    "PERMISSION_DENIED": (403, "Forbidden"),
    "UNAUTHENTICATED": (401, "Unauthorized"),
    "RESOURCE_EXHAUSTED": (429, "Too many requests"),
    "FAILED_PRECONDITION": (422, "No candidate models"),
    "ABORTED": (409, "Conflict"),
    "OUT_OF_RANGE": (400, "Invalid request"),
    "UNIMPLEMENTED": (501, "Not implemented"),
    "INTERNAL": (500, "Internal error"),
    "UNAVAILABLE": (503, "Service unavailable"),
    "DATA_LOSS": (500, "Internal error"),
}
RETRY_SECONDS = 2.2


async def test_the_table_covers_every_error_code() -> None:
    assert set(EXPECTED) == {c.name for c in grpc.StatusCode} - {"OK"}


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


_VIOLATION = error_details_pb2.BadRequest.FieldViolation(field="task.task", description="d")
_RETRY = duration_pb2.Duration(seconds=2, nanos=200_000_000)


async def _scripted(
    request: v1.RecommendRequest, context: grpc.aio.ServicerContext[Any, Any]
) -> v1.RecommendResponse:
    name = request.task.task
    if name.startswith("plain:"):
        name = name.removeprefix("plain:")
        await context.abort(grpc.StatusCode[name], f"plain {name}")
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=f"R_{name}", domain="minima.v1")),
        _pack(error_details_pb2.BadRequest(field_violations=[_VIOLATION])),
        _pack(error_details_pb2.RetryInfo(retry_delay=_RETRY)),
    ]
    status = status_pb2.Status(
        code=getattr(code_pb2, name), message=f"scripted {name}", details=details
    )
    await context.abort_with_status(rpc_status.to_status(status))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        _scripted,
        request_deserializer=v1.RecommendRequest.FromString,
        response_serializer=v1.RecommendResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(v1.SERVICE_NAME, {"Recommend": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    config = make_config(tmp_path_factory.mktemp("scripted"))
    try:
        async with serve_gateway(config, f"127.0.0.1:{port}") as running:
            yield f"http://{running.host}:{running.port}"
    finally:
        await server.stop(None)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_code_maps_to_status_with_details(gateway: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as http:
        response = await http.post("/v1/recommend", json={"task": name})

    status, title = EXPECTED[name]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert violations(body, "Problem") == []
    assert (body["status"], body["title"], body["reason"]) == (status, title, f"R_{name}")
    assert body["field_violations"] == [{"field": "task.task", "description": "d"}]
    expected_detail = (
        "internal error; quote the request id when reporting it"
        if status == 500
        else f"scripted {name}"
    )
    assert body["detail"] == expected_detail
    assert ("www-authenticate" in response.headers) == (name == "UNAUTHENTICATED")
    if name == "UNAUTHENTICATED":
        assert response.headers["www-authenticate"] == "Bearer"
    retry = response.headers.get("retry-after")
    assert retry == ("3" if status in (429, 503) else None)


@pytest.mark.parametrize("name", ["NOT_FOUND", "PERMISSION_DENIED", "INTERNAL"])
async def test_plain_status_without_details(gateway: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=gateway) as http:
        response = await http.post("/v1/recommend", json={"task": f"plain:{name}"})

    status, title = EXPECTED[name]
    body = response.json()
    assert (response.status_code, body["title"]) == (status, title)
    assert "reason" not in body
    assert "field_violations" not in body
    generic = "internal error; quote the request id when reporting it"
    assert body["detail"] == (generic if status == 500 else f"plain {name}")


async def test_unreachable_server(tmp_path: Path) -> None:
    # Nothing listens on the target: the port of a socket that was just closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    async with (
        serve_gateway(make_config(tmp_path), dead) as running,
        httpx.AsyncClient(base_url=f"http://{running.host}:{running.port}") as http,
    ):
        recommend = await http.post("/v1/recommend", json={"task": "hi"})
        health = await http.get("/v1/health")

    assert recommend.status_code == 503
    assert recommend.json()["detail"] == "the service is unavailable; retry later"
    assert dead.split(":")[1] not in recommend.text
    assert health.status_code == 200
    body = health.json()
    assert violations(body, "GetHealthResponse") == []
    assert body["status"] == "degraded"
    assert body["memory"] == {"reachable": None, "latency_ms": None}
