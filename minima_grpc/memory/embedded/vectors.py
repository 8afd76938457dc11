"""The in-memory vector index of one (tenant, lane): exact while small, HNSW when large.

Rows are outcomes in insertion order; a row's *position* is its index here,
its *key* the outcome's sequence number in SQLite. Each row carries a model
code and a user code (0 = written without a user), so recall can ask for "up
to k per model" and hide other users' rows without a second lookup.

Tiers (sizes chosen by bench/memory_bench.py):
- up to `EXACT_MAX` rows every query is exact: one float32 matrix-vector product;
- beyond that an HNSW graph (ann.py) covers positions [0, ann_count) and the
  newest rows [ann_count, size) stay in a small exact "tail". A background
  indexer (`advance`) moves the tail into the graph in short locked steps, so
  a write never waits for the graph.

Per-model recall: a model with few visible rows (`SMALL_POPULATION`) is
scanned exactly; the others share one over-fetched HNSW query, widened once
if a model came back short. So a popular model cannot crowd out a rare one,
and a rare model's neighbours are exact.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from minima_grpc.memory.embedded.ann import AnnIndex
from minima_grpc.memory.embedded.embedder import (
    DIM,
    EMBEDDER_ID,
    Codes,
    Vector,
    dequantize,
    quantize,
)
from minima_grpc.memory.embedded.growable import Growable

EXACT_MAX = 16_384
SMALL_POPULATION = 4_096
# Rows the indexer adds per step: bounds how long a search waits for the graph.
ADVANCE_STEP = 128
# The tail is copied down once the graph has passed this many of its rows.
COMPACT_AFTER = 4_096
OVERFETCH = 1.5
MIN_FETCH = 64
MAX_FETCH = 2_048

Positions = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Want:
    """What a recall asks of the index (codes, not names)."""

    users: tuple[int, ...]
    models: tuple[int, ...] | None = None
    per_model_k: int = 0
    k: int = 32


@dataclass(frozen=True, slots=True)
class Hit:
    key: int
    similarity: float


class LaneIndex:
    """Vectors of one lane; thread-safe.

    Two locks, always taken graph-then-rows: `_lock` guards the arrays (held
    briefly by writers and by searches), `_graph_lock` guards the HNSW graph
    (held by searches and by the indexer while it inserts). A writer thus never
    waits for a graph insert, and only the indexer thread grows the graph.
    """

    def __init__(self, tag: str) -> None:
        # Identifies the lane's rows in saved graph fingerprints.
        self._tag = tag
        self._lock = threading.Lock()
        self._graph_lock = threading.Lock()
        self._keys = Growable(np.int64)
        self._models = Growable(np.int32)
        self._users = Growable(np.int32)
        self._codes = Growable(np.int8, DIM)
        # 1 / |code| per row: scores straight from int8 codes without renormalising.
        self._inverse_norms = Growable(np.float32)
        self._by_model: dict[int, Growable] = {}
        self._by_user: dict[int, Growable] = {}
        self._pairs: Counter[tuple[int, int]] = Counter()
        self._user_counts: Counter[int] = Counter()
        self._ann: AnnIndex | None = None
        # Unit float32 rows of positions [exact_base, size): the exact tier/tail.
        self._exact = Growable(np.float32, DIM)
        self._exact_base = 0

    # -- writes ---------------------------------------------------------------

    def append(
        self, keys: Sequence[int], models: Sequence[int], users: Sequence[int], codes: Codes
    ) -> None:
        """Add rows written after start-up (they join the exact tier/tail)."""
        with self._lock:
            self._extend(keys, models, users, codes)
            self._exact.extend(dequantize(codes))

    def load(
        self,
        keys: Sequence[int],
        models: Sequence[int],
        users: Sequence[int],
        codes: Codes,
        graph: Path,
    ) -> None:
        """Start-up: take the stored rows, and the saved graph if it still matches them.

        Only rows the graph does not cover are expanded to float32.
        """
        with self._graph_lock, self._lock:
            self._extend(keys, models, users, codes)
            restored = AnnIndex.restore(graph, self._fingerprint)
            if restored is None:
                AnnIndex.discard(graph)
            else:
                self._ann = restored
            self._exact_base = self._ann_count
            self._exact.extend(dequantize(self._codes.view()[self._exact_base :]))

    def _extend(
        self, keys: Sequence[int], models: Sequence[int], users: Sequence[int], codes: Codes
    ) -> None:
        start = len(self._keys)
        positions = np.arange(start, start + len(keys), dtype=np.int64)
        model_arr = np.asarray(models, np.int32)
        user_arr = np.asarray(users, np.int32)
        self._keys.extend(keys)
        self._models.extend(model_arr)
        self._users.extend(user_arr)
        self._codes.extend(codes)
        norms = np.linalg.norm(codes.astype(np.float32), axis=1)
        self._inverse_norms.extend(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
        for code in np.unique(model_arr):
            self._by_model.setdefault(int(code), Growable(np.int64)).extend(
                positions[model_arr == code]
            )
        for code in np.unique(user_arr):
            self._by_user.setdefault(int(code), Growable(np.int64)).extend(
                positions[user_arr == code]
            )
        pairs = np.stack([model_arr, user_arr], axis=1) if len(keys) else np.empty((0, 2))
        uniq, counts = np.unique(pairs, axis=0, return_counts=True)
        for (model, user), n in zip(uniq.tolist(), counts.tolist(), strict=True):
            self._pairs[(int(model), int(user))] += n
            self._user_counts[int(user)] += n

    @property
    def size(self) -> int:
        return len(self._keys)

    def backlog(self) -> int:
        """Rows the graph should still take in (0 while the lane is small); lock-free hint."""
        size = self.size
        return 0 if size <= EXACT_MAX else size - self._ann_count

    def advance(self, threads: int) -> int:
        """Move up to ADVANCE_STEP tail rows into the graph; return how many.

        Called by the indexer thread only.
        """
        with self._lock:
            start = self._ann_count
            stop = min(self.size, start + ADVANCE_STEP)
            if stop <= start or self.size <= EXACT_MAX:
                return 0
            block = self._codes.view()[start:stop].copy()
        with self._graph_lock:
            if self._ann is None:
                self._ann = AnnIndex()
            self._ann.add(block, threads)
        with self._lock:
            if self._ann_count - self._exact_base >= COMPACT_AFTER:
                self._exact.drop_front(self._ann_count - self._exact_base)
                self._exact_base = self._ann_count
        return stop - start

    @property
    def _ann_count(self) -> int:
        return len(self._ann) if self._ann is not None else 0

    # -- graph cache ------------------------------------------------------------

    def _fingerprint(self, count: int) -> str | None:
        if not 0 < count <= self.size:
            return None
        return f"{EMBEDDER_ID}:{self._tag}:{count}:{int(self._keys.view()[count - 1])}"

    @property
    def graph_rows(self) -> int:
        return self._ann_count

    def save_graph(self, path: Path) -> int:
        """Save the graph if it has one; return how many rows it covers.

        Only the indexer thread (or close, after it stopped) grows the graph,
        and it is the caller here, so the graph cannot change during the save;
        searches may go on meanwhile.
        """
        with self._lock:
            ann, count = self._ann, self._ann_count
            fingerprint = self._fingerprint(count)
        if ann is None or fingerprint is None:
            return 0
        ann.save(path, fingerprint)
        return count

    # -- reads ----------------------------------------------------------------

    def search(self, query: Vector, want: Want) -> list[Hit]:
        """Nearest visible rows as the request asks, most similar first."""
        with self._graph_lock, self._lock:
            if not self.size:
                return []
            if self._ann_count == 0:
                found = self._search_exact(query, want)
            elif want.per_model_k > 0 and want.models is not None:
                found = self._search_per_model(query, want)
            else:
                found = self._search_overall(query, want)
            keys = self._keys.view()
            hits = [
                Hit(int(keys[p]), min(1.0, max(0.0, float(s))))
                for p, s in zip(found[0], found[1], strict=True)
            ]
        hits.sort(key=lambda h: (-h.similarity, h.key))
        return hits

    def _visible(self, positions: Positions, users: tuple[int, ...]) -> Positions:
        return positions[np.isin(self._users.view()[positions], users)]

    def _population(self, models: tuple[int, ...] | None, users: tuple[int, ...]) -> int:
        if models is None:
            return sum(self._user_counts[u] for u in users)
        return sum(self._pairs[(m, u)] for m in models for u in users)

    def _positions(self, models: tuple[int, ...] | None, users: tuple[int, ...]) -> Positions:
        """Visible positions of the given models (all models if None)."""
        if models is None:
            parts = [self._by_user[u].view() for u in users if u in self._by_user]
            return np.concatenate(parts) if parts else np.empty(0, np.int64)
        parts = [self._by_model[m].view() for m in models if m in self._by_model]
        if not parts:
            return np.empty(0, np.int64)
        return self._visible(np.concatenate(parts), users)

    def _score(self, query: Vector, positions: Positions) -> Scores:
        """Similarity of the query to the given rows, from the exact tier when there."""
        scores = np.empty(len(positions), np.float32)
        in_exact = positions >= self._exact_base
        if in_exact.any():
            rows = self._exact.view()[positions[in_exact] - self._exact_base]
            scores[in_exact] = rows @ query
        if not in_exact.all():
            rows = positions[~in_exact]
            raw = self._codes.view()[rows].astype(np.float32) @ query
            scores[~in_exact] = raw * self._inverse_norms.view()[rows]
        return scores

    @staticmethod
    def _top(positions: Positions, scores: Scores, count: int) -> tuple[Positions, Scores]:
        if len(positions) > count:
            keep = np.argpartition(-scores, count - 1)[:count]
            positions, scores = positions[keep], scores[keep]
        return positions, scores

    def _search_exact(self, query: Vector, want: Want) -> tuple[Positions, Scores]:
        """Small lane: every row is in the exact tier; score them all at once."""
        all_scores = self._exact.view() @ query
        positions = self._positions(want.models, want.users)
        if want.per_model_k > 0 and want.models is not None:
            return self._per_model(positions, all_scores[positions], want.models, want.per_model_k)
        return self._top(positions, all_scores[positions], want.k)

    def _per_model(
        self, positions: Positions, scores: Scores, models: Sequence[int], k: int
    ) -> tuple[Positions, Scores]:
        """The best `k` of each model among the given rows."""
        codes = self._models.view()[positions]
        return _concat([self._top(positions[codes == m], scores[codes == m], k) for m in models])

    def _candidates(self, query: Vector, count: int) -> tuple[Positions, Scores]:
        """About the `count` nearest rows of the whole lane (graph + exact tail)."""
        assert self._ann is not None
        graph, similarities = self._ann.search(quantize(query[None, :])[0], count)
        tail = np.arange(max(self._ann_count, self._exact_base), self.size, dtype=np.int64)
        return (
            np.concatenate([graph, tail]),
            np.concatenate([similarities, self._score(query, tail)]),
        )

    def _search_per_model(self, query: Vector, want: Want) -> tuple[Positions, Scores]:
        """Rarest models exactly (up to SMALL_POPULATION rows in all), the rest via the graph."""
        assert want.models is not None
        k, users = want.per_model_k, want.users
        exact: list[int] = []
        budget = SMALL_POPULATION
        for model in sorted(want.models, key=lambda m: self._population((m,), users)):
            size = self._population((model,), users)
            if size > budget:
                break
            exact.append(model)
            budget -= size
        large = [m for m in want.models if m not in exact]
        positions = self._positions(tuple(exact), users)
        chosen = [self._per_model(positions, self._score(query, positions), exact, k)]
        # Enough candidates that the least common large model expects ~OVERFETCH * k.
        rarest = min((self._population((m,), users) for m in large), default=1)
        share = self._population(None, users) / max(1, rarest)
        fetch = min(MAX_FETCH, max(MIN_FETCH, int(OVERFETCH * k * share)))
        while large:
            positions, scores = self._candidates(query, fetch)
            keep = np.isin(self._users.view()[positions], users)
            picked = self._per_model(positions[keep], scores[keep], large, k)
            short = any(np.count_nonzero(self._models.view()[picked[0]] == m) < k for m in large)
            if not short or fetch >= MAX_FETCH:
                chosen.append(picked)
                break
            fetch = min(MAX_FETCH, fetch * 4)
        return _concat(chosen)

    def _search_overall(self, query: Vector, want: Want) -> tuple[Positions, Scores]:
        if self._population(want.models, want.users) <= SMALL_POPULATION:
            positions = self._positions(want.models, want.users)
            return self._top(positions, self._score(query, positions), want.k)
        fetch = min(MAX_FETCH, max(MIN_FETCH, int(2 * OVERFETCH * want.k)))
        while True:
            positions, scores = self._candidates(query, fetch)
            keep = np.isin(self._users.view()[positions], want.users)
            if want.models is not None:
                keep &= np.isin(self._models.view()[positions], want.models)
            positions, scores = positions[keep], scores[keep]
            if len(positions) >= want.k or fetch >= MAX_FETCH:
                return self._top(positions, scores, want.k)
            fetch = min(MAX_FETCH, fetch * 4)


def _concat(parts: list[tuple[Positions, Scores]]) -> tuple[Positions, Scores]:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    return (
        np.concatenate([p for p, _ in parts]),
        np.concatenate([s for _, s in parts]),
    )
