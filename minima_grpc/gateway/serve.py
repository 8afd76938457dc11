"""Running the gateway: uvicorn inside the caller's event loop.

`serve_gateway` serves HTTP in the running loop for as long as its context is
open; on exit uvicorn stops accepting and in-flight requests get the shutdown
grace. `gateway_companion` adapts it to `minima serve` (server.Companion: it is
entered after the gRPC server is up and left before the server stops, and it
shares the server's metrics registry). `run_gateway` is `minima gateway`: the
adapter alone in front of any replica, until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import socket
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import uvicorn
from prometheus_client import CollectorRegistry

from minima_grpc.config import Config
from minima_grpc.gateway.app import create_app
from minima_grpc.gateway.transcode import Limits
from minima_grpc.interceptors.auth import KEY_OPTIONAL

if TYPE_CHECKING:  # the standalone gateway does not load the server
    from minima_grpc.server import Runtime

log = logging.getLogger("minima.gateway")


@dataclass(frozen=True, slots=True)
class RunningGateway:
    """Where the gateway listens (port is the bound one when 0 was asked for)."""

    host: str
    port: int


class _InLoopServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process owner stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def limits(config: Config) -> Limits:
    """The adapter mirrors the server: same body limit, deadline default and cap."""
    return Limits(
        max_body_bytes=config.max_receive_message_bytes,
        default_timeout_s=config.default_deadline_s,
        max_timeout_s=config.max_deadline_s,
    )


def channel_to(config: Config, grpc_target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        grpc_target,
        options=[
            ("grpc.max_receive_message_length", config.max_send_message_bytes),
            ("grpc.max_send_message_length", config.max_receive_message_bytes),
        ],
    )


def gateway_companion(runtime: Runtime) -> AbstractAsyncContextManager[RunningGateway]:
    """The REST gateway beside the gRPC server of `minima serve`."""
    return serve_gateway(runtime.config, runtime.grpc_target, registry=runtime.metrics.registry)


@contextlib.asynccontextmanager
async def serve_gateway(
    config: Config,
    grpc_target: str,
    *,
    registry: CollectorRegistry | None = None,
    auth_exempt: Collection[str] = KEY_OPTIONAL,
) -> AsyncIterator[RunningGateway]:
    """Serve /v1 on config.host:config.http_port, calling `grpc_target`.

    HTTP metrics go on `registry` (and /metrics shows all of it); `auth_exempt`
    lists the gRPC methods the docs mark as needing no key.
    """
    channel = channel_to(config, grpc_target)
    try:
        app = create_app(
            channel, limits(config), registry or CollectorRegistry(), auth_exempt=auth_exempt
        )
        listener = _listen(config.host, config.http_port)
        host, port = listener.getsockname()[:2]
        server = _InLoopServer(
            uvicorn.Config(
                app,
                lifespan="off",
                log_config=None,
                access_log=False,
                server_header=False,
                proxy_headers=False,
                timeout_graceful_shutdown=max(1, math.ceil(config.shutdown_grace_s)),
            )
        )
        task = asyncio.create_task(server.serve(sockets=[listener]), name="rest-gateway")
        try:
            await _started(server, task)
            fields = {"address": host, "port": port, "grpc_target": grpc_target}
            log.info("REST gateway listening", extra={"fields": fields})
            yield RunningGateway(host, port)
        finally:
            server.should_exit = True
            await task
            listener.close()
    finally:
        await channel.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio turns Nagle off (TCP_NODELAY) only on
    # sockets that say they are TCP, and Nagle costs ~40 ms per response.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    while not server.started:
        if task.done():
            task.result()  # raises the start-up failure
            raise RuntimeError("the REST gateway stopped during start-up")
        await asyncio.sleep(0.005)


async def run_gateway(config: Config, grpc_target: str) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve_gateway(config, grpc_target) as running:
        print(f"minima gateway: http://{running.host}:{running.port} -> {grpc_target}", flush=True)
        await stop.wait()
