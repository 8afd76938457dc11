"""Embedded memory: recall quality on RouterBench, and speed/size at scale.

    python -m bench.memory_bench quality [--dataset PATH]
    python -m bench.memory_bench scale [--sizes 10000,100000,1000000] [--queries 500]
    python -m bench.memory_bench feedback [--seconds 5] [--concurrency 1,16,64]
    python -m bench.memory_bench tiers [--sizes 4000,16000,64000] [--k 128] [--scan-threads N]

quality: seeds the RouterBench train split (every model's 0/1 outcome) into a
  fresh embedded memory through `remember_many`, then for each test prompt
  recalls through `recall` exactly as the engine does (per-model quota) and
  reports (a) how often the nearest train neighbour has the same eval task and
  (b) the Brier score of a similarity-weighted k-NN vote of the neighbours'
  labels per model, against each model's train base rate and its per-task rate.
  `--no-idf` repeats it with document frequencies switched off.
scale: N synthetic outcomes in one lane: insert rate (remember_many), time for
  the background index to catch up, recall p50/p99 (engine-shaped per-model
  query and an overall top-k), RSS, bytes on disk per outcome, start-up time.
feedback: sustained single-record remember() rate at several concurrencies
  (each call returns only after its commit is durable).
tiers: exact vs HNSW search latency and agreement at several lane sizes.
"""

from __future__ import annotations

import os

# Like the server should: parallelism comes from requests, and OpenBLAS threads
# spinning on a busy 2-core machine made exact search 3-7x slower (measured).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import asyncio
import itertools
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from minima_grpc.engine.types import Difficulty, Outcome, Scope, TaskType
from minima_grpc.evaluation.dataset import Sample, load_routing_dataset
from minima_grpc.memory.embedded import EmbeddedMemory, EmbeddedSettings, open_embedded
from minima_grpc.memory.embedded.codec import entry_id
from minima_grpc.memory.embedded.embedder import DocFrequencies, Features, embed, quantize
from minima_grpc.memory.embedded.sweep import DotSweep
from minima_grpc.memory.embedded.vectors import LaneIndex, Want
from minima_grpc.memory.protocol import OutcomeRecord, RecallQuery

DEFAULT_DATASET = (
    Path(__file__).resolve().parents[2] / "shared/data/routerbench/routerbench_0shot_subset.csv"
)
SCOPE = Scope(tenant="bench", namespace="bench")
MODELS = tuple(f"model-{i}" for i in range(10))
# Popularity of MODELS in synthetic lanes: a few dominant models and a tail.
MODEL_WEIGHTS = (30, 20, 15, 10, 8, 6, 5, 3, 2, 1)


# -- helpers --------------------------------------------------------------------


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


@contextmanager
def _scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="minima-memory-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _record(text: str, model: str, outcome: Outcome, key: str, when: datetime) -> OutcomeRecord:
    return OutcomeRecord(
        task_text=text,
        task_type=TaskType.OTHER,
        difficulty=Difficulty.MEDIUM,
        model_id=model,
        outcome=outcome,
        quality=1.0 if outcome is Outcome.SUCCESS else 0.0,
        recorded_at=when,
        input_tokens=900,
        output_tokens=250,
        cost_usd=0.0012,
        latency_ms=700,
        source="seed:bench",
        idempotency_key=key,
    )


def _task_of_entries(root: Path, train: Sequence[Sample]) -> dict[str, str]:
    """Entry id -> eval task of every stored outcome. Recall answers with entry
    ids and labels, not texts, so the store's file says which sample each is."""
    task = {s.sample_id: s.eval_name for s in train}
    (path,) = root.rglob("memory.sqlite3")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        (file_id,) = conn.execute("SELECT value FROM meta WHERE key = 'file_id'").fetchone()
        rows = conn.execute("SELECT seq, idempotency_key FROM outcomes").fetchall()
    # keys are "<sample id>|<model>" (_quality)
    return {entry_id(file_id, seq): task[key.rpartition("|")[0]] for seq, key in rows}


# -- synthetic prompts ---------------------------------------------------------------

_TEMPLATES = (
    "Write a {lang} function that {verb} the {noun} in a {thing} and {verb2} the {noun2}.",
    "Summarize the {doc} about {topic} for a {audience} in {n} bullet points.",
    "Translate this {doc} about {topic} into {language}, keeping the {noun} terms.",
    "Extract every {noun} and {noun2} from the {doc} about {topic} as JSON.",
    "Explain why the {noun} {verb} the {noun2} when the {thing} is {adj}.",
    "Classify the {doc} about {topic} as {adj} or {adj2} and justify it.",
    "Fix the bug in the {lang} {thing} that {verb} the {noun} twice.",
    "Write a {adj} short story about a {noun} who {verb} a {noun2} in {topic}.",
)
_WORDS = {
    "lang": [
        "python",
        "rust",
        "go",
        "java",
        "typescript",
        "kotlin",
        "swift",
        "haskell",
        "ruby",
        "scala",
    ],
    "verb": [
        "parses",
        "sorts",
        "merges",
        "validates",
        "caches",
        "filters",
        "splits",
        "encodes",
        "ranks",
        "retries",
    ],
    "verb2": ["returns", "logs", "counts", "stores", "prints", "hashes", "deduplicates", "streams"],
    "doc": [
        "report",
        "email",
        "contract",
        "paper",
        "ticket",
        "changelog",
        "transcript",
        "review",
        "memo",
    ],
    "audience": ["manager", "engineer", "customer", "student", "lawyer", "investor"],
    "language": ["french", "german", "spanish", "japanese", "italian", "portuguese", "korean"],
    "adj": ["urgent", "stale", "broken", "noisy", "concurrent", "lazy", "expensive", "fragile"],
    "adj2": ["routine", "healthy", "optional", "cheap", "stable", "idle"],
}
_NOUNS = [
    f"{a}{b}"
    for a in (
        "data",
        "user",
        "event",
        "order",
        "token",
        "graph",
        "queue",
        "cache",
        "price",
        "shard",
        "model",
        "batch",
        "frame",
        "route",
        "index",
    )
    for b in ("", "set", "log", "map", "list", "tree", "node", "key", "id", "record")
]
_TOPICS = [
    f"{a} {b}"
    for a in (
        "payments",
        "search",
        "billing",
        "shipping",
        "auth",
        "storage",
        "pricing",
        "ranking",
        "support",
        "fraud",
        "inventory",
        "hiring",
    )
    for b in (
        "latency",
        "outage",
        "migration",
        "refund",
        "audit",
        "rollout",
        "forecast",
        "policy",
        "incident",
        "backlog",
        "quota",
        "launch",
    )
]


def synthetic_prompt(rng: random.Random) -> str:
    template = rng.choice(_TEMPLATES)
    values = {k: rng.choice(v) for k, v in _WORDS.items()}
    values.update(
        noun=rng.choice(_NOUNS),
        noun2=rng.choice(_NOUNS),
        thing=rng.choice(_NOUNS),
        topic=rng.choice(_TOPICS),
        n=str(rng.randint(3, 9)),
    )
    # A request number makes near-duplicates distinct, as real traffic is.
    return template.format(**values) + f" (request {rng.randint(1, 10**6)})"


def synthetic_stream(seed: int, start: int = 0) -> Iterator[OutcomeRecord]:
    """Endless synthetic outcomes with keys syn-<start>, syn-<start+1>, ..."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    for i in itertools.count(start):
        model = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        outcome = Outcome.SUCCESS if rng.random() < 0.7 else Outcome.FAILURE
        yield _record(synthetic_prompt(rng), model, outcome, f"syn-{i}", now)


def synthetic_records(count: int, seed: int, start: int = 0) -> list[OutcomeRecord]:
    return list(itertools.islice(synthetic_stream(seed, start), count))


# -- quality ----------------------------------------------------------------------------


def _flat_idf(self: DocFrequencies, buckets: np.ndarray) -> np.ndarray:
    return np.ones(len(buckets), np.float32)


def quality(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="memory_bench quality")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--k", type=int, default=32, help="neighbours per model")
    parser.add_argument("--no-idf", action="store_true", help="switch document frequencies off")
    args = parser.parse_args(argv)
    if not args.dataset.is_file():
        print(f"quality: dataset not found at {args.dataset}; skipped")
        return
    data = load_routing_dataset(args.dataset)
    train, test = data.split("train"), data.split("test")
    models = data.models
    if args.no_idf:
        # Every feature equally rare: plain TF vectors (ablation only).
        DocFrequencies.idf = _flat_idf  # type: ignore[method-assign]
    asyncio.run(_quality(train, test, models, args.k))


async def _quality(
    train: Sequence[Sample], test: Sequence[Sample], models: Sequence[str], k: int
) -> None:
    when = datetime.now(UTC)
    records = [
        _record(
            s.prompt,
            model,
            Outcome.SUCCESS if score >= 0.5 else Outcome.FAILURE,
            f"{s.sample_id}|{model}",
            when,
        )
        for s in train
        for model, score in zip(models, s.scores, strict=True)
    ]
    labels = np.array([s.scores for s in train])
    base = labels.mean(axis=0)
    tasks = sorted({s.eval_name for s in train})
    task_rate = {t: labels[[s.eval_name == t for s in train]].mean(axis=0) for t in tasks}
    with _scratch_dir() as root:
        memory, _ = open_embedded(root)
        try:
            started = time.perf_counter()
            await memory.remember_many(SCOPE, records)
            await memory.wait_indexed()
            seeded = time.perf_counter() - started
            task_of = _task_of_entries(root, train)
            same_task, knn, brier_base, brier_task, latencies = [], [], [], [], []
            # Similarity of recalled neighbours per task: how alike a shared
            # preamble makes prompts look (near 1: no contrast left to weigh by).
            spread: dict[str, list[float]] = {t: [] for t in tasks}
            for sample in test:
                truth = np.array(sample.scores)
                t0 = time.perf_counter()
                hits = await memory.recall(
                    SCOPE, RecallQuery(text=sample.prompt, models=tuple(models), per_model_k=k)
                )
                latencies.append(time.perf_counter() - t0)
                nearest = hits.entry_ids[int(np.argmax(hits.similarity))]
                spread[sample.eval_name].extend(hits.similarity.tolist())
                same_task.append(task_of[nearest] == sample.eval_name)
                predicted = base.copy()
                by_row = np.array(hits.models_by_row())
                for m, model in enumerate(models):
                    mine = by_row == model
                    weight = hits.similarity[mine].sum()
                    # quality is 1.0 for a success, 0.0 for a failure (_record)
                    wins = (hits.similarity * hits.quality)[mine].sum()
                    # Beta smoothing toward the base rate (2 pseudo-observations).
                    predicted[m] = (wins + 2 * base[m]) / (weight + 2)
                knn.append(((predicted - truth) ** 2).mean())
                brier_base.append(((base - truth) ** 2).mean())
                brier_task.append(((task_rate[sample.eval_name] - truth) ** 2).mean())
        finally:
            await memory.close()
    print(f"train outcomes seeded: {len(records)} in {seeded:.1f} s; test prompts: {len(test)}")
    print(f"nearest train neighbour has the same task: {np.mean(same_task):.3%}")
    print(
        "mean similarity of recalled neighbours: "
        + ", ".join(f"{t} {np.mean(v):.2f}" for t, v in spread.items())
    )
    print(
        f"Brier (lower is better), k={k} per model: kNN {np.mean(knn):.4f} | "
        f"model base rate {np.mean(brier_base):.4f} | per-task rate (oracle task label) "
        f"{np.mean(brier_task):.4f}"
    )
    print(
        f"kNN vs base rate: {1 - np.mean(knn) / np.mean(brier_base):+.1%} Brier; "
        f"recall p50 {_percentile(latencies, 50) * 1e3:.2f} ms, "
        f"p99 {_percentile(latencies, 99) * 1e3:.2f} ms"
    )


# -- scale ------------------------------------------------------------------------------------


async def _fill(memory: EmbeddedMemory, count: int, seed: int) -> tuple[float, float]:
    """Insert `count` synthetic outcomes; return (insert seconds, index catch-up seconds)."""
    chunk = 20_000
    inserting = 0.0
    for start in range(0, count, chunk):
        records = synthetic_records(min(chunk, count - start), seed + start, start)
        t0 = time.perf_counter()
        await memory.remember_many(SCOPE, records)
        inserting += time.perf_counter() - t0
    t0 = time.perf_counter()
    await memory.wait_indexed()
    return inserting, time.perf_counter() - t0


async def _latencies(memory: EmbeddedMemory, queries: Sequence[RecallQuery]) -> tuple[float, float]:
    samples = []
    for query in queries:
        t0 = time.perf_counter()
        await memory.recall(SCOPE, query)
        samples.append(time.perf_counter() - t0)
    return _percentile(samples, 50) * 1e3, _percentile(samples, 99) * 1e3


def _queries(count: int, seed: int) -> dict[str, list[RecallQuery]]:
    rng = random.Random(seed)
    texts = [synthetic_prompt(rng) for _ in range(count)]
    return {
        "per-model (10 models x 12)": [
            RecallQuery(text=t, models=MODELS, per_model_k=12) for t in texts
        ],
        "overall k=32": [RecallQuery(text=t, k=32) for t in texts],
    }


async def _scale_one(size: int, queries: int) -> None:
    with _scratch_dir() as root:
        memory, _ = open_embedded(root)
        inserting, catch_up = await _fill(memory, size, seed=7)
        rss = _rss_mib()
        asked = _queries(queries, seed=99)
        for name, batch in asked.items():
            p50, p99 = await _latencies(memory, batch[:20])  # warm-up
            p50, p99 = await _latencies(memory, batch)
            print(f"  recall {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        t0 = time.perf_counter()
        await memory.close()
        closing = time.perf_counter() - t0
        disk = _disk_bytes(root)
        t0 = time.perf_counter()
        reopened, _ = open_embedded(root)
        startup = time.perf_counter() - t0
        first = asked["per-model (10 models x 12)"][0]
        t0 = time.perf_counter()
        await reopened.recall(SCOPE, first)
        first_ms = (time.perf_counter() - t0) * 1e3
        await reopened.close()
    print(
        f"  insert {size / inserting:,.0f} outcomes/s (remember_many); index caught up "
        f"{catch_up:.1f} s later; RSS {rss:,.0f} MiB (peak {_peak_rss_mib():,.0f})"
    )
    print(
        f"  disk {disk / size:,.0f} B/outcome ({disk / 2**20:,.1f} MiB); close {closing:.2f} s; "
        f"start-up {startup:.2f} s; first recall after start-up {first_ms:.1f} ms"
    )


def scale(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="memory_bench scale")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"== {size:,} outcomes in one lane")
        asyncio.run(_scale_one(size, args.queries))


# -- feedback writes ------------------------------------------------------------------------------


async def _feedback_rate(concurrency: int, seconds: float) -> float:
    with _scratch_dir() as root:
        memory, _ = open_embedded(root)
        await memory.remember_many(SCOPE, synthetic_records(10_000, seed=3))
        done = 0
        deadline = time.perf_counter() + seconds
        records = synthetic_stream(5, start=10**7)

        async def writer() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await memory.remember(SCOPE, next(records))
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
        await memory.close()
    return done / elapsed


def feedback(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="memory_bench feedback")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,16,64")
    args = parser.parse_args(argv)
    settings = EmbeddedSettings()
    print(f"synchronous={settings.synchronous}; each write durable before it returns")
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        rate = asyncio.run(_feedback_rate(concurrency, args.seconds))
        print(f"  concurrency {concurrency:3d}: {rate:,.0f} remember()/s")


# -- tiers ---------------------------------------------------------------------------


def _unsaved(model: int) -> Path:
    """Graph path for indexes the benchmark never saves."""
    return Path(tempfile.gettempdir()) / f"memory-bench-unsaved-{model}.usearch"


def tiers(argv: Sequence[str]) -> None:
    """Exact search vs the HNSW graph on the same rows, per lane size."""
    from minima_grpc.memory.embedded import vectors

    parser = argparse.ArgumentParser(prog="memory_bench tiers")
    parser.add_argument("--sizes", default="4000,16000,64000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=128, help="neighbours asked (the engine: 128)")
    parser.add_argument(
        "--scan-threads", type=int, default=EmbeddedSettings().scan_threads,
        help="threads sharing an exact scan (the server's default: the cores, up to 4)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rng = random.Random(11)
    sweep = DotSweep(args.scan_threads)
    for size in (int(s) for s in args.sizes.split(",")):
        texts = [synthetic_prompt(rng) for _ in range(size)]
        features = [Features(t) for t in texts]
        df = DocFrequencies()
        df.add(features)
        codes = quantize(embed(features, df))
        queries = embed([Features(synthetic_prompt(rng)) for _ in range(args.queries)], df)
        want = Want(users=(0,), k=args.k)
        keys, zeros = list(range(size)), [0] * size

        def timed(
            index: LaneIndex, queries: np.ndarray = queries, want: Want = want
        ) -> tuple[list[list[int]], float, float]:
            found, samples = [], []
            for q in queries:
                t0 = time.perf_counter()
                found.append(index.search(q, want).keys.tolist())
                samples.append(time.perf_counter() - t0)
            return found, _percentile(samples, 50) * 1e3, _percentile(samples, 99) * 1e3

        exact = LaneIndex("bench", _unsaved, sweep)  # never indexed: exact scan
        exact.append(keys, zeros, zeros, codes)
        truth, e50, e99 = timed(exact)
        # Force the graph whatever the size (module threshold, restored below).
        saved = vectors.MODEL_EXACT_MAX
        vectors.MODEL_EXACT_MAX = 0
        try:
            graph = LaneIndex("bench", _unsaved, sweep)
            graph.append(keys, zeros, zeros, codes)
            t0 = time.perf_counter()
            while graph.advance(threads=2):
                pass
            build = time.perf_counter() - t0
            approx, a50, a99 = timed(graph)
        finally:
            vectors.MODEL_EXACT_MAX = saved
        agreement = statistics.mean(
            len(set(a) & set(t)) / len(t) for a, t in zip(approx, truth, strict=True)
        )
        print(
            f"  {size:>7,} rows: exact p50 {e50:.2f} / p99 {e99:.2f} ms | HNSW p50 {a50:.2f} / "
            f"p99 {a99:.2f} ms, recall@{args.k} {agreement:.3f}, build {size / build:,.0f} rows/s"
        )
    sweep.close()


SECTIONS: dict[str, Callable[[Sequence[str]], None]] = {
    "quality": quality,
    "scale": scale,
    "feedback": feedback,
    "tiers": tiers,
}


def main() -> int:
    import sys

    argv = sys.argv[1:]
    if argv and argv[0] in SECTIONS:
        SECTIONS[argv[0]](argv[1:])
        return 0
    if argv:
        print(f"usage: memory_bench [{'|'.join(SECTIONS)}] [options]", file=sys.stderr)
        return 2
    for name, section in SECTIONS.items():
        print(f"=== {name}", flush=True)
        section([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
