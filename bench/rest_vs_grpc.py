"""REST (the gateway) beside gRPC: the same Recommend on the same server, one run.

A child process runs what `minima serve` runs: MinimaServer (every
interceptor) with the REST gateway as its companion, in one event loop. The
parent sends the spec's example recommend request over gRPC (grpc.aio, one
channel) and over REST, then reports median and p99 latency and requests per
second at each concurrency level, and the server's CPU time per request (the
steadiest figure on a shared machine). REST is measured twice: with a minimal
keep-alive HTTP/1.1 client (so the client's own cost does not hide the
adapter's) and with httpx (what Python callers use).

--engine canned answers Recommend with a fixed response, so the figures are the
transports' and the adapter's alone; --engine real uses the real engine
(minima_grpc.wiring) on a fresh embedded memory.

    python -m bench.rest_vs_grpc [--calls 2000] [--levels 1,8,32] [--engine canned|real]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import httpx

from bench.idle_engine import IdleEngine
from bench.proc import cpu_seconds
from minima_grpc import v1
from minima_grpc.auth import build_authenticator
from minima_grpc.auth.keys import KeyStore
from minima_grpc.config import Config, load_config
from minima_grpc.engine import types as d
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.gateway import gateway_companion
from minima_grpc.gateway.jsonmap import message_from_json
from minima_grpc.server import MinimaServer

# The spec's curl example for POST /v1/recommend.
REQUEST = {
    "task": {
        "task": "Write a Python function that merges k sorted linked lists.",
        "task_type": "code",
        "difficulty": "hard",
        "expected_input_tokens": 180,
        "expected_output_tokens": 600,
        "tags": ["lang:python"],
    },
    "cost_quality_tradeoff": 3,
    "constraints": {"min_quality": 0.8, "excluded_models": ["some-deprecated-model"]},
    "namespace": "team-payments",
}
WARM_UP_CALLS = 200


class _CannedEngine(IdleEngine):
    """Answers Recommend with one fixed, realistic response (8 ranked models with
    evidence); nothing else is benchmarked."""

    def __init__(self) -> None:
        evidence = tuple(
            d.EvidenceRef(f"e{i}", f"ref-{i}", "model-0", 0.9, 0.8, 0.9, False) for i in range(3)
        )
        ranked = tuple(
            d.RankedModel(
                model_id=f"model-{i}",
                provider="acme",
                predicted_success=0.9 - i / 20,
                est_cost_usd=0.001 * (i + 1),
                est_cost_breakdown={"input": 0.0004 * (i + 1), "output": 0.0006 * (i + 1)},
                score=0.5 - i / 30,
                rationale=f"model-{i}: success 0.9, est cost",
                decision_basis=d.DecisionBasis.MEMORY,
                evidence=evidence,
                supports_prompt_caching=i % 2 == 0,
                context_window=128_000,
            )
            for i in range(8)
        )
        self._response = d.RecommendResponse(
            recommendation_id="rec-bench",
            recommended_model=ranked[0],
            ranked=ranked,
            fallback_model=ranked[1],
            confidence=0.8,
            decision_basis=d.DecisionBasis.MEMORY,
            threshold_used=0.8,
            classified_task_type=d.TaskType.CODE,
            classified_difficulty=d.Difficulty.HARD,
            catalog_version="bench",
            catalog_stale=False,
            latency_ms=1,
            warnings=(),
        )

    async def recommend(self, scope: d.Scope, request: d.RecommendRequest) -> d.RecommendResponse:
        return self._response


def _engine(kind: str, config: Config) -> RoutingEngine:
    if kind == "canned":
        return _CannedEngine()
    from minima_grpc.wiring import build_engine  # the real engine's dependencies load here

    return build_engine(config)


async def _run_server(engine_kind: str) -> None:
    """Child process: serve gRPC + REST until SIGTERM; print ports and a key."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    config = load_config()
    store = KeyStore(config.keys_path)
    key = store.create("bench").token
    store.close()
    server = MinimaServer(config, _engine(engine_kind, config), build_authenticator(config))
    await server.start()
    async with gateway_companion(server.runtime) as gateway:
        print(server.port, gateway.port, key, flush=True)
        await stop.wait()
    await server.shutdown()


class RawHttpClient:
    """One keep-alive HTTP/1.1 connection that POSTs one fixed JSON body."""

    def __init__(self, port: int, path: str, body: bytes, key: str) -> None:
        self._port = port
        self._request = (
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {key}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode() + body
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self) -> None:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self._port)
        reader, writer = self._streams
        writer.write(self._request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            await self._streams[1].wait_closed()


@dataclass(frozen=True)
class Result:
    transport: str
    concurrency: int
    calls: int
    median_ms: float
    p99_ms: float
    per_s: float
    server_cpu_us: float


Call = Callable[[int], Awaitable[None]]  # worker index -> one request


async def _measure(name: str, call: Call, pid: int, concurrency: int, calls: int) -> Result:
    latencies: list[float] = []
    remaining = calls

    async def worker(index: int) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - started)

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    return Result(
        transport=name,
        concurrency=concurrency,
        calls=len(latencies),
        median_ms=statistics.median(latencies) * 1000,
        p99_ms=statistics.quantiles(latencies, n=100)[98] * 1000,
        per_s=len(latencies) / elapsed,
        server_cpu_us=cpu / len(latencies) * 1e6,
    )


async def _bench(levels: list[int], calls: int, engine: str) -> list[Result]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "MINIMA_DATA_DIR": data_dir,
            "MINIMA_HOST": "127.0.0.1",
            "MINIMA_GRPC_PORT": "0",
            "MINIMA_HTTP_PORT": "0",
            "MINIMA_LOG_LEVEL": "WARNING",
            "MINIMA_SHUTDOWN_DRAIN_S": "0",
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.rest_vs_grpc",
            "--server",
            engine,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), timeout=120)
            grpc_port, http_port, key = line.decode().split()
            return await _run_levels(int(grpc_port), int(http_port), key, child.pid, levels, calls)
        finally:
            child.send_signal(signal.SIGTERM)
            await child.wait()


async def _run_levels(
    grpc_port: int, http_port: int, key: str, pid: int, levels: list[int], calls: int
) -> list[Result]:
    body = json.dumps(REQUEST).encode()
    request = message_from_json(json.loads(body), v1.RecommendRequest)
    metadata = (("authorization", f"Bearer {key}"),)
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{http_port}",
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            limits=httpx.Limits(max_connections=max(levels)),
        ) as http,
    ):
        stub = v1.RecommendationServiceStub(channel)
        results = []
        for level in levels:
            # Fresh connections per level: the server closes idle keep-alives after 5 s.
            raw = [RawHttpClient(http_port, "/v1/recommend", body, key) for _ in range(level)]

            async def over_grpc(_: int) -> None:
                await stub.Recommend(request, metadata=metadata, timeout=10)

            async def over_raw(index: int, raw: list[RawHttpClient] = raw) -> None:
                await raw[index].post()

            async def over_httpx(_: int) -> None:
                (await http.post("/v1/recommend", content=body)).raise_for_status()

            transports: list[tuple[str, Call]] = [
                ("gRPC", over_grpc),
                ("REST raw", over_raw),
                ("REST httpx", over_httpx),
            ]
            for name, call in transports:
                await _measure(name, call, pid, level, WARM_UP_CALLS)
                results.append(await _measure(name, call, pid, level, calls))
            for client in raw:
                await client.close()
        return results


def _table(results: list[Result], calls: int, engine: str) -> str:
    lines = [
        f"Recommend, {calls} calls per row, engine {engine}; server (gRPC + REST in one "
        "process, all interceptors) in a child process",
        f"{'concurrency':>11}  {'transport':<10}  {'median ms':>9}  {'p99 ms':>7}  "
        f"{'req/s':>7}  {'server CPU us/req':>17}",
    ]
    for r in results:
        lines.append(
            f"{r.concurrency:>11}  {r.transport:<10}  {r.median_ms:>9.3f}  {r.p99_ms:>7.3f}  "
            f"{r.per_s:>7.0f}  {r.server_cpu_us:>17.0f}"
        )
    by_key = {(r.concurrency, r.transport): r for r in results}
    lines.append("adapter cost (REST raw - gRPC):")
    for level in sorted({r.concurrency for r in results}):
        rest, base = by_key[(level, "REST raw")], by_key[(level, "gRPC")]
        lines.append(
            f"  concurrency {level:>2}: median +{rest.median_ms - base.median_ms:.3f} ms, "
            f"server CPU +{rest.server_cpu_us - base.server_cpu_us:.0f} us/req "
            f"(x{rest.server_cpu_us / base.server_cpu_us:.2f}), "
            f"throughput x{rest.per_s / base.per_s:.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per row (2000)")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels (1,8,32)")
    parser.add_argument("--engine", choices=("canned", "real"), default="canned")
    parser.add_argument("--server", choices=("canned", "real"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server:
        asyncio.run(_run_server(args.server))
        return 0
    levels = [int(level) for level in args.levels.split(",")]
    print(_table(asyncio.run(_bench(levels, args.calls, args.engine)), args.calls, args.engine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
