"""`minima serve` end to end: a real process with the real engine and REST adapter."""

from __future__ import annotations

import socket
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from minima_grpc import v1
from minima_grpc.cli import main
from tests.conftest import bearer
from tests.server.process import ServerProcess

ENV = {"MINIMA_SHUTDOWN_DRAIN_S": "0.2", "MINIMA_SHUTDOWN_GRACE_S": "5"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _printed_key(server: ServerProcess) -> str | None:
    return next((line.strip() for line in server.lines if line.strip().startswith("mnm_")), None)


@pytest.mark.slow
async def test_serve_prints_a_first_key_serves_both_ports_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    http_port = _free_port()
    args = ["-m", "minima_grpc", "serve", "--grpc-port", "0", "--http-port", str(http_port)]
    server = await ServerProcess.start([*args, "--data-dir", str(tmp_path)], ENV)
    try:
        port = (await server.wait_for_log("gRPC server listening", within_s=120))["port"]
        await server.wait_for_log("serving", within_s=120)
        key = _printed_key(server)
        assert key is not None, server.output

        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = v1.RecommendationServiceStub(channel)
            models = await stub.ListModels(v1.ListModelsRequest(), metadata=bearer(key), timeout=30)
            assert models.models
            async with httpx.AsyncClient() as http:
                rest = await http.get(f"http://127.0.0.1:{http_port}/v1/health", timeout=30)
            assert rest.status_code == 200

            health = health_pb2_grpc.HealthStub(channel)
            watch = health.Watch(health_pb2.HealthCheckRequest())
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
            server.terminate()
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert await server.wait() == 0
    finally:
        await server.kill()

    # A second start with the same data directory prints no new key.
    again = await ServerProcess.start([*args, "--data-dir", str(tmp_path)], ENV)
    try:
        await again.wait_for_log("serving", within_s=120)
        again.terminate()
        assert await again.wait() == 0
    finally:
        await again.kill()
    assert _printed_key(again) is None


@pytest.mark.slow
async def test_serve_on_a_taken_port_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = await ServerProcess.start(
            ["-m", "minima_grpc", "serve", "--grpc-port", str(port), "--data-dir", str(tmp_path)],
            ENV,
        )
        try:
            assert await server.wait(within_s=120) == 1
        finally:
            await server.kill()
    assert f"minima serve: cannot listen on 127.0.0.1:{port}: the port is in use" in server.output
    assert "Traceback" not in server.output


def test_bad_flag_values_exit_2_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--grpc-port", "fifty"]) == 2
    assert capsys.readouterr().err.strip() == (
        "minima serve: --grpc-port='fifty': expected an integer"
    )
