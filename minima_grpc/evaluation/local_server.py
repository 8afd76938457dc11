"""Start a private `minima serve` for a run: embedded memory, fresh data dir, own catalog.

The server is a real subprocess (the same command a user runs), bound to
loopback. Its API key is issued in the data dir's key store before it starts,
and readiness is the standard grpc.health.v1 check reporting SERVING.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from minima_grpc.auth.keys import KeyStore
from minima_grpc.config import Config

TENANT = "eval"
_POLL_S = 0.2
_STOP_TIMEOUT_S = 20.0


class LocalServerError(RuntimeError):
    """The private server did not come up; the message carries its last log lines."""


@dataclass(frozen=True, slots=True)
class LocalServer:
    target: str
    api_key: str
    data_dir: Path
    log_path: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _issue_key(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = KeyStore(Config(data_dir=data_dir).keys_path)
    try:
        return store.create(TENANT).token
    finally:
        store.close()


@contextlib.asynccontextmanager
async def local_server(
    catalog: Path, data_dir: Path, *, startup_timeout_s: float = 90.0
) -> AsyncIterator[LocalServer]:
    api_key = _issue_key(data_dir)
    port = _free_port()
    log_path = data_dir / "server.log"
    command = [
        sys.executable, "-m", "minima_grpc", "serve",
        "--host", "127.0.0.1", "--grpc-port", str(port), "--http-port", "0",
        "--data-dir", str(data_dir), "--catalog", str(catalog),
        "--memory", "embedded", "--log-level", "warning",
    ]  # fmt: skip
    # No drain pause on shutdown: nothing balances load across this server.
    env = {**os.environ, "MINIMA_SHUTDOWN_DRAIN_S": "0"}
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env
        )
        try:
            target = f"127.0.0.1:{port}"
            await _wait_serving(target, process, log_path, startup_timeout_s)
            yield LocalServer(target, api_key, data_dir, log_path)
        finally:
            await _stop(process)


async def _wait_serving(
    target: str, process: asyncio.subprocess.Process, log_path: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    async with aio.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise LocalServerError(
                    f"minima serve exited with {process.returncode}:\n{_tail(log_path)}"
                )
            with contextlib.suppress(aio.AioRpcError):
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(_POLL_S)
    raise LocalServerError(
        f"minima serve was not serving after {timeout_s:.0f} s:\n{_tail(log_path)}"
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])
