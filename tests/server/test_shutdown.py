"""Graceful shutdown of a real server process on SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from minima_grpc import v1
from minima_grpc.auth.keys import KeyStore
from tests.conftest import bearer
from tests.server.process import ServerProcess

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_sigterm_drains_finishes_in_flight_call_and_exits_zero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = KeyStore(data / "keys.db")
    key = store.create("tenant-a").token
    store.close()
    server = await ServerProcess.start(
        ["-m", "tests.server.slow_serve"],
        {
            "MINIMA_DATA_DIR": str(data),
            "MINIMA_GRPC_PORT": "0",
            "MINIMA_SHUTDOWN_DRAIN_S": "0.3",
            "MINIMA_SHUTDOWN_GRACE_S": "10",
            "SLOW_SECONDS": "1.0",
        },
    )
    try:
        port = (await server.wait_for_log("gRPC server listening"))["port"]
        await server.wait_for_log("serving")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest(service=v1.SERVICE_NAME))
            assert (await watch.read()).status == SERVING

            stub = v1.RecommendationServiceStub(channel)
            in_flight = asyncio.ensure_future(
                stub.Recommend(
                    v1.RecommendRequest(task=v1.TaskInput(task="slow")),
                    metadata=bearer(key),
                    timeout=30,
                )
            )
            await server.wait_for_log("recommend in flight", within_s=10)
            server.terminate()

            assert (await watch.read()).status == NOT_SERVING
            response = await in_flight
            assert response.recommendation_id == "rec-1"
        assert await server.wait() == 0
    finally:
        await server.kill()
    messages = [entry["message"] for entry in server.log_entries()]
    assert messages.index("shutting down") < messages.index("stopped")
