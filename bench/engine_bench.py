"""Engine time per recommendation, without transport, over the embedded memory.

    python -m bench engine [--sizes 10000 100000] [--requests 300] [--candidates N]

For each size, seeds that many outcomes into one lane (synthetic prompts of
every task type over every catalog model), then times `recommend` end to end
and, separately, the recall call and the recommendation-store write inside it;
"engine beyond I/O" is what remains. Then replays the same requests with each
recall answered instantly from what the memory returned and the store write
discarded ("engine compute only": classification, aggregation, pricing,
selection, response). Reports median and p99 in milliseconds, and the load
average (the machine may be shared).

Every request weighs the whole catalog unless `--candidates N` names N of its
models (spread over the price range) as `candidate_models`, like a caller that
routes among its own short list: most of the compute is per candidate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from minima_grpc.catalog import load_catalog
from minima_grpc.config import Config
from minima_grpc.engine.engine import MinimaEngine
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import (
    Constraints,
    Difficulty,
    Outcome,
    RecommendRequest,
    Scope,
    TaskInput,
    TaskType,
)
from minima_grpc.memory.factory import open_memory
from minima_grpc.memory.protocol import (
    Memory,
    Neighbours,
    OutcomeRecord,
    PendingRecommendation,
    RecallQuery,
    RecommendationStore,
)

SCOPE = Scope(tenant="bench")
TEMPLATES = {
    TaskType.CODE: "Write a {lang} function that {verb} a {thing} and handles {edge}.",
    TaskType.SUMMARIZATION: "Summarize the {thing} report about {topic} into {n} bullets.",
    TaskType.EXTRACTION: "Extract every {thing} and {edge} from this {topic} document as JSON.",
    TaskType.QA: "What is the {thing} of {topic} and why does it matter for {edge}?",
    TaskType.REASONING: "Prove that every {thing} in {topic} satisfies the {edge} property.",
    TaskType.CLASSIFICATION: "Classify this {topic} ticket about {thing} as {edge} or not.",
    TaskType.TRANSLATION: "Translate the {topic} note about {thing} into {lang}.",
    TaskType.CREATIVE: "Write a short poem about a {thing} lost in {topic} with {edge}.",
    TaskType.RAG: "Based on the following context about {topic}, explain the {thing}.",
    TaskType.TOOL_USE: "Use the {thing} tool to look up {topic} and report {edge}.",
    TaskType.OTHER: "Help me plan the {topic} {thing} with {edge} in mind.",
}
WORDS = {
    "lang": ["Python", "Rust", "Go", "TypeScript", "French", "German", "Japanese"],
    "verb": ["parses", "merges", "sorts", "validates", "streams", "compresses"],
    "thing": ["invoice", "graph", "queue", "sensor", "contract", "matrix", "playlist", "budget"],
    "edge": ["empty input", "unicode", "timeouts", "large files", "duplicates", "retries"],
    "topic": ["billing", "physics", "logistics", "medicine", "gardening", "security", "finance"],
    "n": ["3", "5", "7"],
}


def prompt(rng: random.Random, task_type: TaskType) -> str:
    return TEMPLATES[task_type].format(**{k: rng.choice(v) for k, v in WORDS.items()})


def synthetic_outcomes(n: int, model_ids: Sequence[str], seed: int) -> list[OutcomeRecord]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    types = list(TaskType)
    records = []
    for i in range(n):
        task_type = rng.choice(types)
        success = rng.random() < 0.7
        records.append(
            OutcomeRecord(
                task_text=prompt(rng, task_type),
                task_type=task_type,
                difficulty=rng.choice(list(Difficulty)),
                model_id=rng.choice(model_ids),
                outcome=Outcome.SUCCESS if success else Outcome.FAILURE,
                quality=0.9 if success else 0.1,
                recorded_at=now - timedelta(days=rng.uniform(0, 120)),
                input_tokens=rng.randint(100, 4000),
                output_tokens=rng.randint(50, 2000),
                cost_usd=rng.uniform(1e-5, 0.05),
                source="seed:bench",
                idempotency_key=f"bench:{seed}:{i}",
            )
        )
    return records


class TimedMemory:
    """Passes every call through; remembers each recall's time and answer."""

    def __init__(self, inner: Memory) -> None:
        self._inner = inner
        self.recall_ms: list[float] = []
        self.answers: dict[str, Neighbours] = {}

    async def recall(self, scope: Scope, query: RecallQuery) -> Neighbours:
        started = time.perf_counter()
        try:
            found = await self._inner.recall(scope, query)
        finally:
            self.recall_ms.append((time.perf_counter() - started) * 1000.0)
        self.answers[query.text] = found
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TimedStore:
    def __init__(self, inner: RecommendationStore) -> None:
        self._inner = inner
        self.put_ms: list[float] = []

    async def put(self, *args: Any) -> None:
        started = time.perf_counter()
        try:
            await self._inner.put(*args)
        finally:
            self.put_ms.append((time.perf_counter() - started) * 1000.0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ReplayMemory:
    """Answers each recall with the neighbours the real memory gave for the same
    text, instantly: what is left is the engine's own compute."""

    def __init__(self, answers: dict[str, Neighbours]) -> None:
        self._answers = answers

    async def recall(self, scope: Scope, query: RecallQuery) -> Neighbours:
        return self._answers[query.text]


class DiscardingStore:
    async def put(self, scope: Scope, pending: PendingRecommendation) -> None:
        return None


def summary(name: str, values: Sequence[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{name:>22}: median {statistics.median(ordered):8.3f} ms   p99 {p99:8.3f} ms"


def short_list(model_ids: Sequence[str], count: int) -> tuple[str, ...]:
    """`count` of the models, evenly spread through the list; () for all."""
    if count <= 0 or count >= len(model_ids):
        return ()
    return tuple(model_ids[i * len(model_ids) // count] for i in range(count))


async def run_size(size: int, requests: int, candidates: int, data_dir: Path) -> None:
    catalog = load_catalog()
    memory, store = open_memory(Config(data_dir=data_dir))
    try:
        ids = [e.model_id for e in catalog.entries]
        started = time.perf_counter()
        records = synthetic_outcomes(size, ids, seed=size)
        # One write first creates the lane (embedded remember_many cannot yet
        # create a lane for many records of one batch).
        await memory.remember(SCOPE, records[0])
        for chunk in range(0, size, 5000):
            await memory.remember_many(SCOPE, records[chunk : chunk + 5000])
        seed_s = time.perf_counter() - started
        timed_memory, timed_store = TimedMemory(memory), TimedStore(store)
        # A generous recall deadline: this measures the engine, not degradation.
        settings = EngineSettings(recall_timeout_ms=30_000)
        engine = MinimaEngine(catalog, timed_memory, timed_store, settings=settings)
        rng = random.Random(7)
        by_price = sorted(catalog.entries, key=lambda e: e.card.input_cost_per_mtok)
        constraints = Constraints(
            candidate_models=short_list([e.model_id for e in by_price], candidates)
        )
        asks = [
            RecommendRequest(
                TaskInput(prompt(rng, t)), constraints=constraints, allow_llm_escalation=False
            )
            for t in (rng.choice(list(TaskType)) for _ in range(requests + 20))
        ]
        for ask in asks[:20]:  # warm caches and the index
            await engine.recommend(SCOPE, ask)
        timed_memory.recall_ms.clear()
        timed_store.put_ms.clear()
        total_ms = []
        for ask in asks[20:]:
            t0 = time.perf_counter()
            await engine.recommend(SCOPE, ask)
            total_ms.append((time.perf_counter() - t0) * 1000.0)
        own = [
            t - r - p
            for t, r, p in zip(total_ms, timed_memory.recall_ms, timed_store.put_ms, strict=True)
        ]
        weighed = len(constraints.candidate_models) or len(ids)
        print(f"\n{size:,} stored outcomes ({len(ids)} models; seeded in {seed_s:.1f} s), "
              f"{requests} recommendations over {weighed} candidates")  # fmt: skip
        print(summary("recommend (total)", total_ms))
        print(summary("recall", timed_memory.recall_ms))
        print(summary("store put", timed_store.put_ms))
        print(summary("engine beyond I/O", own))
        replay = MinimaEngine(
            catalog,
            ReplayMemory(timed_memory.answers),  # type: ignore[arg-type]
            DiscardingStore(),  # type: ignore[arg-type]
            settings=settings,
        )
        compute_ms = []
        for ask in asks[20:]:
            t0 = time.perf_counter()
            await replay.recommend(SCOPE, ask)
            compute_ms.append((time.perf_counter() - t0) * 1000.0)
        neighbours = statistics.mean(len(a) for a in timed_memory.answers.values())
        print(summary("engine compute only", compute_ms), f"({neighbours:.0f} neighbours/recall)")
        # Figures from a shared machine mean little without its load.
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{'load average':>22}: {load} (1, 5, 15 min; {os.cpu_count()} cores)")
    finally:
        await memory.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench engine", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=0, help="0: the whole catalog")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minima-engine-bench-") as tmp:
        for size in args.sizes:
            run = run_size(size, args.requests, args.candidates, Path(tmp) / f"n{size}")
            asyncio.run(run)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
