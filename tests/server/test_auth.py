"""Bearer-key auth over a real server with the embedded key store."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from minima_grpc import v1
from minima_grpc.auth.keys import KeyStore
from tests.conftest import Metadata, OpenChannel, StartServer, bearer
from tests.server.fakes import RecordingEngine
from tests.server.rich_errors import rich_error


async def _list_models(channel: grpc.aio.Channel, metadata: Metadata) -> None:
    stub = v1.RecommendationServiceStub(channel)
    await stub.ListModels(v1.ListModelsRequest(), metadata=metadata, timeout=5)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ((), "missing API key"),
        ((("authorization", "Basic dXNlcjpwYXNz"),), "malformed authorization"),
        ((("authorization", "Bearer"),), "malformed authorization"),
        ((("authorization", "Bearer not-a-minima-key"),), "malformed API key"),
        ((("authorization", "Bearer mnm_0123456789ab_wrongsecret"),), "invalid API key"),
    ],
    ids=["missing", "basic-scheme", "empty-bearer", "malformed-key", "unknown-key"],
)
async def test_rejected_keys_get_unauthenticated_and_reach_nothing(
    start_server: StartServer,
    open_channel: OpenChannel,
    metadata: tuple[tuple[str, str], ...],
    message: str,
) -> None:
    engine = RecordingEngine()
    running = await start_server(engine)
    with pytest.raises(grpc.aio.AioRpcError) as rejected:
        await _list_models(open_channel(running.address), metadata)
    error = rich_error(rejected.value)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert (error.reason, error.domain) == ("API_KEY_INVALID", "minima.v1")
    assert message in error.message
    assert engine.calls == []


async def test_wrong_secret_for_a_real_key_id_is_rejected(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    prefix, key_id, _ = running.api_key.split("_", 2)  # the secret may contain "_"
    forged = f"{prefix}_{key_id}_{'x' * 43}"
    with pytest.raises(grpc.aio.AioRpcError) as rejected:
        await _list_models(open_channel(running.address), bearer(forged))
    assert rejected.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_revoked_key_stops_working_without_restart(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    running = await start_server(RecordingEngine())
    channel = open_channel(running.address)
    await _list_models(channel, running.auth)

    store = KeyStore(running.config.keys_path)  # what `minima keys revoke` does
    store.revoke(running.api_key.split("_")[1])
    store.close()

    with pytest.raises(grpc.aio.AioRpcError) as rejected:
        await _list_models(channel, running.auth)
    assert rich_error(rejected.value).message == "invalid API key"


async def test_each_key_scopes_calls_to_its_tenant(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine()
    running = await start_server(engine)
    other_key = running.new_key("tenant-b")
    stub = v1.RecommendationServiceStub(open_channel(running.address))
    request = v1.RecommendRequest(
        task=v1.TaskInput(task="sum a list"), namespace="team-x", user_id="u-7"
    )

    await stub.Recommend(request, metadata=running.auth, timeout=5)
    await stub.Recommend(request, metadata=bearer(other_key), timeout=5)

    scopes = [scope for _, scope, _ in engine.calls]
    assert [s.tenant for s in scopes if s] == ["tenant-a", "tenant-b"]
    assert all(s and (s.namespace, s.user_id) == ("team-x", "u-7") for s in scopes)
    assert all(s and s.api_key is None for s in scopes)  # embedded keys are not forwarded


async def test_health_and_get_health_need_no_key(
    start_server: StartServer, open_channel: OpenChannel
) -> None:
    engine = RecordingEngine()
    running = await start_server(engine)
    channel = open_channel(running.address)
    health = health_pb2_grpc.HealthStub(channel)
    stub = v1.RecommendationServiceStub(channel)

    checked = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert checked.status == health_pb2.HealthCheckResponse.SERVING

    anonymous = await stub.GetHealth(v1.GetHealthRequest(), timeout=5)
    with_bad_key = await stub.GetHealth(v1.GetHealthRequest(), metadata=bearer("nope"), timeout=5)
    with_key = await stub.GetHealth(v1.GetHealthRequest(), metadata=running.auth, timeout=5)

    assert anonymous.status == v1.HealthStatus.HEALTH_STATUS_OK
    assert not anonymous.memory.HasField("reachable")  # liveness only
    assert not with_bad_key.memory.HasField("reachable")
    assert with_key.memory.reachable is True
    scopes = [scope for name, scope, _ in engine.calls if name == "health"]
    assert [s.tenant if s else None for s in scopes] == [None, None, "tenant-a"]


async def test_reflection_needs_no_key_and_lists_the_services(
    start_server: StartServer,
) -> None:
    running = await start_server(RecordingEngine())

    def lookup() -> tuple[list[str], list[str]]:
        # The reflection client is synchronous; run it off the server's loop.
        with grpc.insecure_channel(running.address) as channel:
            database = ProtoReflectionDescriptorDatabase(channel)
            services = database.get_services()
            service = database.FindFileContainingSymbol(v1.SERVICE_NAME)
            methods = [
                m.name
                for s in service.service
                if s.name == "RecommendationService"
                for m in s.method
            ]
            return services, methods

    services, methods = await asyncio.to_thread(lookup)
    assert set(services) >= {
        v1.SERVICE_NAME,
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    assert {"Recommend", "GetHealth"} <= set(methods)


async def test_keys_never_reach_the_logs(
    start_server: StartServer, open_channel: OpenChannel, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_server(RecordingEngine())
    channel = open_channel(running.address)
    bogus = "mnm_0123456789ab_" + "s" * 43
    with caplog.at_level(logging.DEBUG):
        await _list_models(channel, running.auth)
        with pytest.raises(grpc.aio.AioRpcError):
            await _list_models(channel, bearer(bogus))
    logged = [f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records]
    assert any("ListModels" in line for line in logged)  # the calls were logged...
    secret = running.api_key.split("_", 2)[2]
    assert not any(secret in line or "s" * 43 in line for line in logged)  # ...their keys not
