"""`python -m bench mubit`: what the Mubit adapter adds on top of mubit-sdk.

Against the fake Mubit on loopback (tests/fake_mubit, lexical scoring), with
`--records` outcomes stored in one lane:

1. recall latency, bare SDK call vs `MubitMemory.recall` (thread pool hop,
   parsing, per-model grouping): the adapter's own overhead;
2. recall throughput and latency at 1, 8 and 32 concurrent callers with the
   default worker pool (bound by the single-process fake on a small machine);
3. a stalled Mubit (every query sleeps `--stall-s`): recall latency seen by
   callers with a 250 ms inline budget, i.e. what a recommendation waits.

The fake's own cost dominates absolute numbers; compare the columns.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from minima_grpc.engine.types import Difficulty, Outcome, Scope, TaskType
from minima_grpc.memory.mubit.connector import MubitConnector, build_client
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.mubit.settings import MubitSettings
from minima_grpc.memory.protocol import OutcomeRecord, RecallQuery
from tests.fake_mubit import FakeKeys, FakeMubit

MODELS = ("gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash-lite", "claude-opus-4-6")
QUERY = RecallQuery(
    text="translate the quarterly report summary into German", models=MODELS, per_model_k=8
)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms"


def _records(count: int) -> list[OutcomeRecord]:
    topics = ("report", "email", "contract", "menu", "manual", "poem", "invoice", "notice")
    return [
        OutcomeRecord(
            task_text=f"translate the {topics[i % len(topics)]} number {i} into German",
            task_type=TaskType.TRANSLATION,
            difficulty=Difficulty.EASY,
            # Models rotate independently of topics, so every model has close neighbours.
            model_id=MODELS[(i // len(topics)) % len(MODELS)],
            outcome=Outcome.SUCCESS if i % 3 else Outcome.FAILURE,
            quality=0.9 if i % 3 else 0.1,
            recorded_at=datetime.now(UTC),
            idempotency_key=f"bench-{i}",
        )
        for i in range(count)
    ]


async def _timed(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def _concurrent(memory: MubitMemory, scope: Scope, callers: int, total: int) -> str:
    samples: list[float] = []

    async def caller() -> None:
        for _ in range(max(1, total // callers)):
            started = time.perf_counter()
            await memory.recall(scope, QUERY)
            samples.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    rate = len(samples) / (time.perf_counter() - started)
    return f"{callers:3d} callers  {rate:7.1f} recalls/s  {_ms(samples)}"


async def run(records: int, calls: int, stall_s: float) -> None:
    keys = FakeKeys()
    scope = Scope(tenant="acme", namespace="bench", api_key=keys.main)
    with FakeMubit(keys=keys.accepted) as fake:
        settings = MubitSettings(endpoint=fake.url, transport="http", max_retries=0)
        memory = MubitMemory(MubitConnector(settings))
        try:
            await memory.remember_many(scope, _records(records))
            sdk = build_client(settings, keys.main, settings.inline_timeout_s)

            def bare() -> object:
                return sdk.recall(
                    query=QUERY.text,
                    session_id=scope.lane,
                    limit=QUERY.per_model_k * len(MODELS) * 2,
                    entry_types=["fact", "observation"],
                    include_working_memory=False,
                    evidence_only=True,
                )

            loop = asyncio.get_running_loop()
            bare_samples = await _timed(lambda: loop.run_in_executor(None, bare), calls)
            adapter_samples = await _timed(lambda: memory.recall(scope, QUERY), calls)
            print(f"fake Mubit, {records} outcomes in one lane, {calls} calls per row")
            print(f"  bare SDK recall      {_ms(bare_samples)}")
            print(f"  adapter recall       {_ms(adapter_samples)}")
            print(f"concurrent adapter recalls (pool of {settings.max_workers} workers)")
            for callers in (1, 8, 32):
                print("  " + await _concurrent(memory, scope, callers, calls))
        finally:
            await memory.close()

        fake.inject("/v2/control/query", delay_s=stall_s)
        stalled = MubitMemory(MubitConnector(replace(settings, inline_timeout_ms=250)))
        latencies: list[float] = []

        async def one() -> None:
            started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await stalled.recall(scope, QUERY)
            latencies.append(time.perf_counter() - started)

        try:
            await asyncio.gather(*(one() for _ in range(32)))
        finally:
            await stalled.close()
        print(f"stalled Mubit ({stall_s:g} s per query), 250 ms inline budget, 32 concurrent")
        print(f"  caller-seen recall   {_ms(latencies)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench mubit", description=__doc__)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--stall-s", type=float, default=2.0)
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    asyncio.run(run(args.records, args.calls, args.stall_s))


if __name__ == "__main__":
    main()
