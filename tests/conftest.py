"""Shared fixtures: a real Minima gRPC server on loopback, and channels to it.

    async def test_something(start_server, open_channel):
        running = await start_server(engine)          # any RoutingEngine
        stub = v1.RecommendationServiceStub(open_channel(running.address))
        await stub.ListModels(v1.ListModelsRequest(), metadata=running.auth)

`start_server` runs the production MinimaServer (every interceptor, health,
reflection, the embedded key store) on 127.0.0.1 with port 0 and a data dir in
tmp_path, issues a key for tenant "tenant-a", and stops the server (closing the
engine) at teardown. Pass `warm=False` to get a server that listens but has not
started the engine yet; pass Config fields as keywords to override them.

pytest-grpc is not used: its fixtures build a synchronous grpc.server, while
Minima is a grpc.aio server with its own interceptor chain.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import grpc
import pytest

from minima_grpc.auth import build_authenticator
from minima_grpc.auth.keys import KeyStore
from minima_grpc.config import Config
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.server import MinimaServer

Metadata = tuple[tuple[str, str], ...]
OpenChannel = Callable[[str], grpc.aio.Channel]


@dataclass(frozen=True)
class RunningServer:
    server: MinimaServer
    config: Config
    api_key: str
    tenant: str

    @property
    def address(self) -> str:
        return self.server.target

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def auth(self) -> Metadata:
        """Call metadata carrying this server's key."""
        return bearer(self.api_key)

    def new_key(self, tenant: str) -> str:
        """Issue another key (e.g. for a second tenant) through the server's key store."""
        store = KeyStore(self.config.keys_path)
        try:
            return store.create(tenant).token
        finally:
            store.close()


def bearer(key: str) -> Metadata:
    return (("authorization", f"Bearer {key}"),)


class StartServer(Protocol):
    def __call__(
        self, engine: RoutingEngine, *, warm: bool = True, **overrides: Any
    ) -> Awaitable[RunningServer]: ...


def server_config(data_dir: Path, **overrides: Any) -> Config:
    """A Config for tests: loopback, free ports, no shutdown drain, short grace."""
    base = Config(
        data_dir=data_dir,
        host="127.0.0.1",
        grpc_port=0,
        http_port=0,
        shutdown_drain_s=0.0,
        shutdown_grace_s=2.0,
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    servers: list[MinimaServer] = []

    async def start(engine: RoutingEngine, *, warm: bool = True, **overrides: Any) -> RunningServer:
        config = server_config(tmp_path / f"data{len(servers)}", **overrides)
        store = KeyStore(config.keys_path)
        try:
            key = store.create("tenant-a").token
        finally:
            store.close()
        server = MinimaServer(config, engine, build_authenticator(config))
        servers.append(server)
        await server.listen()
        if warm:
            await server.warm_up()
        return RunningServer(server=server, config=config, api_key=key, tenant="tenant-a")

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def open_channel() -> AsyncIterator[OpenChannel]:
    """Open aio channels to an address; all are closed at teardown."""
    channels: list[grpc.aio.Channel] = []

    def open_(address: str) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(address)
        channels.append(channel)
        return channel

    yield open_
    for channel in channels:
        await channel.close()


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Drop every MINIMA_*/MUBIT_* variable and point HOME at tmp_path; yield HOME."""
    for name in list(os.environ):
        if name.startswith(("MINIMA_", "MUBIT_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path
