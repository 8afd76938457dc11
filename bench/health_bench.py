"""Latency and throughput of grpc.health.v1.Health/Check on a real Minima server.

The server runs in a child process (the production MinimaServer with every
interceptor; its engine is idle because health checks never reach it). An aio
client sends a fixed number of calls at each concurrency level over one
channel and reports median and p99 latency and calls per second, next to the
same run against a bare grpc.aio health server (the ratio is what survives a
noisy machine), and the server's CPU time per call read from /proc.

    python -m bench health [--calls 2000] [--levels 1,8,32] [--log-level INFO]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from bench.idle_engine import IdleEngine
from bench.proc import cpu_seconds
from minima_grpc.auth import build_authenticator
from minima_grpc.cli.logs import configure_logging
from minima_grpc.config import load_config
from minima_grpc.server import MinimaServer

WARM_UP_CALLS = 200


async def _run_server(kind: str) -> None:
    """Child process: serve until SIGTERM; print the bound port on stdout.

    "minima" is the production server; "bare" is grpc.aio with only the health
    service, the baseline that shows what Minima's layers cost.
    """
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "bare":
        bare = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), bare)
        print(bare.add_insecure_port("127.0.0.1:0"), flush=True)
        await bare.start()
        await stop.wait()
        await bare.stop(None)
        return
    config = load_config()
    configure_logging(config.log_level)
    server = MinimaServer(config, IdleEngine(), build_authenticator(config))
    await server.start()
    print(server.port, flush=True)
    await stop.wait()
    await server.shutdown()


@dataclass(frozen=True)
class Level:
    concurrency: int
    calls: int
    median_ms: float
    p99_ms: float
    calls_per_s: float
    server_cpu_us: float  # server process CPU time per call: steadier than wall time


async def _measure(
    stub: health_pb2_grpc.HealthStub, server_pid: int, concurrency: int, calls: int
) -> Level:
    request = health_pb2.HealthCheckRequest()
    latencies: list[float] = []
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await stub.Check(request, timeout=10)
            latencies.append(time.perf_counter() - started)

    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(server_pid) - cpu_before
    cuts = statistics.quantiles(latencies, n=100)
    return Level(
        concurrency=concurrency,
        calls=len(latencies),
        median_ms=statistics.median(latencies) * 1000,
        p99_ms=cuts[98] * 1000,
        calls_per_s=len(latencies) / elapsed,
        server_cpu_us=cpu / len(latencies) * 1e6,
    )


async def _bench(kind: str, levels: list[int], calls: int, log_level: str) -> list[Level]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "MINIMA_DATA_DIR": data_dir,
            "MINIMA_GRPC_PORT": "0",
            "MINIMA_HOST": "127.0.0.1",
            "MINIMA_LOG_LEVEL": log_level,
            "MINIMA_SHUTDOWN_DRAIN_S": "0",
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.health_bench",
            "--server",
            kind,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert child.stdout is not None
            port = int(await asyncio.wait_for(child.stdout.readline(), timeout=60))
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                await _measure(stub, child.pid, 8, WARM_UP_CALLS)
                return [await _measure(stub, child.pid, level, calls) for level in levels]
        finally:
            child.send_signal(signal.SIGTERM)
            await child.wait()


def _table(minima: list[Level], bare: list[Level], calls: int, log_level: str) -> str:
    lines = [
        f"grpc.health.v1.Health/Check, {calls} calls per level, server in a child process",
        f"minima = MinimaServer (all interceptors, log level {log_level}); "
        "bare = grpc.aio + health only",
        f"{'concurrency':>11}  {'server':>6}  {'median ms':>9}  {'p99 ms':>7}  {'calls/s':>8}  "
        f"{'server CPU us/call':>18}  {'CPU minima/bare':>15}",
    ]
    for ours, base in zip(minima, bare, strict=True):
        for name, r in (("minima", ours), ("bare", base)):
            ratio = f"{ours.server_cpu_us / base.server_cpu_us:>15.2f}" if name == "minima" else ""
            lines.append(
                f"{r.concurrency:>11}  {name:>6}  {r.median_ms:>9.3f}  {r.p99_ms:>7.3f}  "
                f"{r.calls_per_s:>8.0f}  {r.server_cpu_us:>18.0f}  {ratio}".rstrip()
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per level (2000)")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels (1,8,32)")
    parser.add_argument("--log-level", default="INFO", help="server log level (INFO)")
    parser.add_argument("--server", choices=("minima", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        asyncio.run(_run_server(args.server))
        return 0
    levels = [int(level) for level in args.levels.split(",")]
    log_level = args.log_level.upper()
    minima = asyncio.run(_bench("minima", levels, args.calls, log_level))
    bare = asyncio.run(_bench("bare", levels, args.calls, log_level))
    print(_table(minima, bare, args.calls, log_level))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
