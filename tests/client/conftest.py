"""Fixtures for the client tests: fake upstreams on loopback, a real
`minima serve`, and a way to run one test through both clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from minima_grpc.auth.keys import KeyStore
from minima_grpc.config import Config
from tests.client.client_support import FakeHttp, LiveServer, Runner, minima_routes

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    return Runner(request.param)


@pytest.fixture
def fake_minima() -> Iterator[FakeHttp]:
    with FakeHttp(minima_routes()) as fake:
        yield fake


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _issue_key(data_dir: Path) -> str:
    store = KeyStore(Config(data_dir=data_dir).keys_path)
    try:
        return store.create("client-tests").token
    finally:
        store.close()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"minima serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"minima serve did not answer within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`minima serve` as a user runs it: a subprocess with both ports on loopback."""
    data_dir = tmp_path_factory.mktemp("minima-data")
    api_key = _issue_key(data_dir)
    grpc_port, http_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MINIMA_", "MUBIT_"))}
    env["MINIMA_SHUTDOWN_DRAIN_S"] = "0"
    log = data_dir / "server.log"
    command = [
        sys.executable, "-m", "minima_grpc", "serve", "--host", "127.0.0.1",
        "--grpc-port", str(grpc_port), "--http-port", str(http_port),
        "--data-dir", str(data_dir), "--memory", "embedded", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env
        )
    rest_url = f"http://127.0.0.1:{http_port}"
    try:
        _wait_until_serving(rest_url, process, log)
        yield LiveServer(rest_url, f"grpc://127.0.0.1:{grpc_port}", api_key)
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
