"""`minima gateway --target HOST:PORT` as a real process in front of a real server."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import Stack
from .spec_shapes import violations

pytestmark = pytest.mark.asyncio(loop_scope="module")

BANNER = re.compile(r"minima gateway: (http://\S+) -> ")


async def start_gateway(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "MINIMA_LOG_LEVEL": "WARNING"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "minima_grpc",
        "gateway",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def test_gateway_alone_serves_the_api_and_stops_on_sigterm(
    stack: Stack, tmp_path: Path
) -> None:
    target = stack.server.target
    process = await start_gateway("--target", target, "--http-port", "0", "--host", "127.0.0.1")
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        match = BANNER.search(line.decode())
        assert match, line
        async with httpx.AsyncClient(base_url=match.group(1), headers=stack.auth) as http:
            health = await http.get("/v1/health")
            recommend = await http.post("/v1/recommend", json={"task": "hi"})
            docs = await http.get("/docs")

        assert health.status_code == 200
        assert violations(health.json(), "GetHealthResponse") == []
        assert recommend.status_code == 200
        assert violations(recommend.json(), "RecommendResponse") == []
        assert docs.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    assert code == 0


async def test_bad_target_is_a_usage_error() -> None:
    process = await start_gateway("--target", "not a target")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert b"--target" in stderr


async def test_busy_port_fails_with_a_message(stack: Stack) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        process = await start_gateway("--target", stack.server.target, "--http-port", port)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert b"cannot listen" in stderr
    assert b"Traceback" not in stderr
