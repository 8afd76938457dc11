"""Health and readiness over a real server: NOT_SERVING -> SERVING -> NOT_SERVING."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from minima_grpc import v1
from minima_grpc.server import ServerStartError
from tests.conftest import OpenChannel, StartServer
from tests.server.fakes import RecordingEngine
from tests.server.rich_errors import rich_error

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(stub: health_pb2_grpc.HealthStub, service: str) -> int:
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return int(response.status)


async def test_health_follows_engine_start_and_shutdown(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine(start_gate=asyncio.Event())
    running = await start_server(engine, warm=False)
    channel = open_channel(running.address)
    health = health_pb2_grpc.HealthStub(channel)
    api = v1.RecommendationServiceStub(channel)

    assert await _status(health, "") == NOT_SERVING
    assert await _status(health, v1.SERVICE_NAME) == NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.ListModels(v1.ListModelsRequest(), metadata=running.auth, timeout=5)
    error = rich_error(refused.value)
    assert (error.code, error.reason) == (grpc.StatusCode.UNAVAILABLE, "NOT_SERVING")
    assert engine.calls == []

    warming = asyncio.create_task(running.server.warm_up())
    await asyncio.sleep(0)
    assert await _status(health, "") == NOT_SERVING  # engine.start() has not returned
    assert engine.start_gate is not None
    engine.start_gate.set()
    await warming
    assert await _status(health, "") == SERVING
    assert await _status(health, v1.SERVICE_NAME) == SERVING
    await api.ListModels(v1.ListModelsRequest(), metadata=running.auth, timeout=5)

    watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
    assert (await watch.read()).status == SERVING
    await running.server.drain()
    assert (await watch.read()).status == NOT_SERVING
    assert await _status(health, v1.SERVICE_NAME) == NOT_SERVING
    watch.cancel()

    await running.server.stop()
    assert engine.closed


async def test_unknown_health_service_is_not_found(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    health = health_pb2_grpc.HealthStub(open_channel(running.address))
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await _status(health, "no.such.Service")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_engine_start_failure_is_a_start_error(start_server: StartServer) -> None:
    class BrokenEngine(RecordingEngine):
        async def start(self) -> None:
            raise RuntimeError("catalog file is corrupt")

    running = await start_server(BrokenEngine(), warm=False)
    with pytest.raises(ServerStartError, match="engine failed to start: catalog file is corrupt"):
        await running.server.warm_up()


async def test_port_in_use_is_a_clear_error(start_server: StartServer) -> None:
    first = await start_server(RecordingEngine())
    with pytest.raises(ServerStartError, match="in use"):
        await start_server(RecordingEngine(), grpc_port=first.port)


async def test_reflection_can_be_switched_off(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine(), enable_reflection=False)
    stub = reflection_pb2_grpc.ServerReflectionStub(open_channel(running.address))
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    with pytest.raises(grpc.aio.AioRpcError) as off:
        await call.read()
    assert off.value.code() == grpc.StatusCode.UNIMPLEMENTED
