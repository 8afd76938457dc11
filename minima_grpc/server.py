"""The grpc.aio server: interceptors, servicer, health, reflection, lifecycle.

Lifecycle (MinimaServer):
  listen()   bind and start serving; health NOT_SERVING, API calls UNAVAILABLE
  warm_up()  engine.start(); then API calls open and health SERVING
  drain()    health NOT_SERVING (permanently), wait so balancers notice
  stop()     refuse new calls, give in-flight ones the grace period, close engine

`serve(config)` runs all of it for `minima serve`, with companions (the REST
gateway) started after the gRPC server and stopped before it, until SIGTERM or
SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from minima_grpc import v1
from minima_grpc.auth import Authenticator, build_authenticator
from minima_grpc.config import Config, dial_target
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.interceptors import ServerMetrics, ServingGate, build_interceptors
from minima_grpc.servicer import RecommendationServicer

_log = logging.getLogger("minima.server")
T = TypeVar("T")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# "" is the whole server, as orchestrators probe it.
HEALTH_SERVICES = ("", v1.SERVICE_NAME)


class ServerStartError(Exception):
    """The server could not start: the port is taken, the host is wrong, the engine failed."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """What a companion gets: the config, where to dial the gRPC server, its metrics."""

    config: Config
    grpc_target: str
    metrics: ServerMetrics


# An async context manager factory, entered after the gRPC server is up and
# exited (in reverse order) before it stops.
Companion = Callable[[Runtime], AbstractAsyncContextManager[object]]
EngineFactory = Callable[[Config], RoutingEngine]


def server_options(config: Config) -> list[tuple[str, int]]:
    return [
        # A second process on the same port must fail loudly, not share it.
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", config.max_receive_message_bytes),
        ("grpc.max_send_message_length", config.max_send_message_bytes),
        # Ping idle connections so dead peers (and NATs) are noticed.
        ("grpc.keepalive_time_ms", config.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", config.keepalive_timeout_ms),
        # Accept client keepalive pings down to every 10 s instead of the 5 min
        # default, which would answer them with GOAWAY "too_many_pings".
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.max_connection_age_ms", config.max_connection_age_ms),
        ("grpc.max_connection_age_grace_ms", config.max_connection_age_grace_ms),
    ]


class MinimaServer:
    """One gRPC server around one engine. It owns (and closes) the engine and authenticator."""

    def __init__(
        self,
        config: Config,
        engine: RoutingEngine,
        authenticator: Authenticator,
        *,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.authenticator = authenticator
        self.metrics = metrics or ServerMetrics()
        self.health = health.aio.HealthServicer()
        self.port = 0
        self._stopped = False
        self._gate = ServingGate()
        self._server = grpc.aio.server(
            interceptors=build_interceptors(config, authenticator, self.metrics, self._gate),
            options=server_options(config),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
        v1.add_RecommendationServiceServicer_to_server(RecommendationServicer(engine), self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        if config.enable_reflection:
            reflection.enable_server_reflection(
                (v1.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
            )

    @property
    def target(self) -> str:
        """Where a client on this machine dials the server."""
        return dial_target(self.config.host, self.port)

    @property
    def runtime(self) -> Runtime:
        return Runtime(self.config, self.target, self.metrics)

    async def listen(self) -> int:
        """Bind and start serving (not yet ready); return the bound port."""
        # The aio health servicer starts "" as SERVING; nothing is ready yet.
        for service in HEALTH_SERVICES:
            await self.health.set(service, NOT_SERVING)
        address = self.config.grpc_bind_address
        try:
            self.port = self._server.add_insecure_port(address)
        except RuntimeError as exc:
            raise ServerStartError(
                f"cannot listen on {address}: the port is in use or the host is not "
                "an address of this machine"
            ) from exc
        if self.port == 0:  # older grpc releases report failure this way
            raise ServerStartError(f"cannot listen on {address}")
        await self._server.start()
        _log.info(
            "gRPC server listening",
            extra={"fields": {"address": self.config.host, "port": self.port}},
        )
        return self.port

    async def warm_up(self) -> None:
        """Start the engine, then open the API and report SERVING."""
        try:
            await self.engine.start()
        except Exception as exc:
            raise ServerStartError(f"the engine failed to start: {exc}") from exc
        self._gate.open()
        for service in HEALTH_SERVICES:
            await self.health.set(service, SERVING)
        _log.info("serving", extra={"fields": {"port": self.port}})

    async def start(self) -> None:
        await self.listen()
        await self.warm_up()

    async def drain(self) -> None:
        """Report NOT_SERVING for good and give balancers time to notice; calls still work."""
        await self.health.enter_graceful_shutdown()
        if self.config.shutdown_drain_s:
            await asyncio.sleep(self.config.shutdown_drain_s)

    async def stop(self) -> None:
        """Refuse new calls, let in-flight ones finish within the grace period, close.

        Idempotent, so owners can stop unconditionally in a `finally`.
        """
        if self._stopped:
            return
        self._stopped = True
        await self._server.stop(self.config.shutdown_grace_s)
        try:
            await self.engine.close()
        finally:
            await self.authenticator.close()
        _log.info("stopped")

    async def shutdown(self) -> None:
        await self.drain()
        await self.stop()


def _build_engine(config: Config) -> RoutingEngine:
    # Imported here: the wiring pulls in the catalog, memory backends and their
    # dependencies, which code that only builds a MinimaServer does not need.
    from minima_grpc.wiring import build_engine

    return build_engine(config)


def _set_up(part: str, build: Callable[[], T]) -> T:
    """Build a part of the service; any failure becomes one clear ServerStartError."""
    try:
        return build()
    except ServerStartError:
        raise
    except Exception as exc:
        # Misconfiguration (a bad catalog file, reasoner or Mubit settings) lands
        # here: one line for the operator, the traceback in the log.
        _log.exception("cannot set up the %s", part)
        raise ServerStartError(f"cannot set up the {part}: {exc}") from exc


async def serve(
    config: Config,
    *,
    companions: Sequence[Companion] = (),
    engine_factory: EngineFactory = _build_engine,
) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully.

    Raises ServerStartError when start-up fails (everything started is stopped).
    """
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    try:
        engine = _set_up("engine", lambda: engine_factory(config))
        authenticator = _set_up("authenticator", lambda: build_authenticator(config))
        server = MinimaServer(config, engine, authenticator)
        try:
            await server.listen()
            await _run(server, companions, stop_requested)
        finally:
            await server.stop()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _run(
    server: MinimaServer, companions: Sequence[Companion], stop_requested: asyncio.Event
) -> None:
    # A signal during start-up is honoured once start-up finishes: the engine
    # and companions then shut down through their normal paths.
    await server.warm_up()
    async with contextlib.AsyncExitStack() as stack:
        for companion in companions:
            try:
                await stack.enter_async_context(companion(server.runtime))
            except Exception as exc:
                name = getattr(companion, "__name__", repr(companion))
                raise ServerStartError(f"{name} failed to start: {exc}") from exc
        await stop_requested.wait()
        _log.info("shutting down")
        await server.drain()
    # Leaving the stack closed the companions; serve() now stops the gRPC server.
