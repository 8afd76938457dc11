"""A real gRPC server (MinimaServer: interceptors, auth, servicer) with the
REST gateway beside it, both on 127.0.0.1 with ports picked by the OS, and
httpx clients that talk real HTTP to the gateway.

The engine behind the server is EngineDouble (a test double, for shape checks).
One stack per test module (module-scoped loop) keeps the suite fast; tests
that need other settings start their own with `running_stack`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from minima_grpc.auth.embedded import EmbeddedAuthenticator
from minima_grpc.auth.keys import KeyStore
from minima_grpc.config import Config
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.gateway import gateway_companion
from minima_grpc.server import MinimaServer

from .engine_double import EngineDouble

BODY_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Stack:
    server: MinimaServer
    engine: EngineDouble  # idle when the stack runs another engine
    base_url: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}


def make_config(data_dir: Path, **changes: Any) -> Config:
    settings: dict[str, Any] = {
        "grpc_port": 0,
        "http_port": 0,
        "shutdown_drain_s": 0.0,
        "shutdown_grace_s": 1.0,
        "max_receive_message_bytes": BODY_LIMIT,
    }
    return Config(data_dir=data_dir, **{**settings, **changes})


@contextlib.asynccontextmanager
async def running_stack(
    config: Config, engine: RoutingEngine | None = None
) -> AsyncIterator[Stack]:
    """Server + gateway as `minima serve` wires them (the gateway is a companion).

    The engine is EngineDouble unless one is given.
    """
    store = KeyStore(config.keys_path)
    key = store.create("tenant-a").token
    store.close()
    double = EngineDouble()
    server = MinimaServer(
        config, engine or double, EmbeddedAuthenticator(KeyStore(config.keys_path))
    )
    await server.start()
    try:
        async with gateway_companion(server.runtime) as gateway:
            yield Stack(server, double, f"http://{gateway.host}:{gateway.port}", key)
    finally:
        await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(make_config(tmp_path_factory.mktemp("minima"))) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """Sends the tenant's key on every request."""
    async with httpx.AsyncClient(base_url=stack.base_url, headers=stack.auth) as http:
        yield http


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def anon(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """Sends no key."""
    async with httpx.AsyncClient(base_url=stack.base_url) as http:
        yield http
