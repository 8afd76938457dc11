"""Access log lines and Prometheus metrics for calls on a real server."""

from __future__ import annotations

import json
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from minima_grpc import v1
from minima_grpc.cli.logs import JsonFormatter
from tests.conftest import OpenChannel, StartServer
from tests.server.fakes import RecordingEngine

LIST_MODELS = f"/{v1.SERVICE_NAME}/ListModels"


async def test_one_json_access_line_per_call(
    start_server: StartServer, open_channel: OpenChannel, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_server(RecordingEngine())
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    with caplog.at_level(logging.INFO, logger="minima.access"):
        await stub.ListModels(
            v1.ListModelsRequest(), metadata=(*running.auth, ("x-request-id", "r-1")), timeout=5
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.ListModels(v1.ListModelsRequest(), timeout=5)

    records = [r for r in caplog.records if r.name == "minima.access"]
    lines = [JsonFormatter().format(r) for r in records]
    assert all("\n" not in line for line in lines)
    entries = [json.loads(line) for line in lines]
    assert [(e["method"], e["code"]) for e in entries] == [
        (LIST_MODELS, "OK"),
        (LIST_MODELS, "UNAUTHENTICATED"),
    ]
    assert entries[0]["request_id"] == "r-1"
    assert entries[1]["request_id"]  # generated
    assert all(e["duration_ms"] >= 0 and e["peer"].startswith("ipv4:127.0.0.1") for e in entries)


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_metrics_count_calls_by_method_and_code(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    channel = open_channel(running.address)
    stub = v1.RecommendationServiceStub(channel)
    for _ in range(2):
        await stub.ListModels(v1.ListModelsRequest(), metadata=running.auth, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.ListModels(v1.ListModelsRequest(), timeout=5)
    await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)

    body, content_type = running.server.metrics.render()
    assert content_type.startswith("text/plain")
    handled = _samples(body.decode(), "grpc_server_handled_total")
    service = ("grpc_service", v1.SERVICE_NAME)
    assert handled[(("grpc_code", "OK"), ("grpc_method", "ListModels"), service)] == 2
    assert handled[(("grpc_code", "UNAUTHENTICATED"), ("grpc_method", "ListModels"), service)] == 1
    health_ok = (
        ("grpc_code", "OK"),
        ("grpc_method", "Check"),
        ("grpc_service", "grpc.health.v1.Health"),
    )
    assert handled[health_ok] == 1
    counts = _samples(body.decode(), "grpc_server_handling_seconds_count")
    assert counts[(("grpc_method", "ListModels"), service)] == 3
