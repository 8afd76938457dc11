"""The in-memory vector index of one (tenant, lane), partitioned by model.

Rows are outcomes in insertion order; a row's *position* is its index here,
its *key* the outcome's sequence number in SQLite. Each row carries a model
code and a user code (0 = written without a user).

Why per model: the engine asks for "up to k neighbours of each candidate
model". One graph shared by all models must fetch ~k / share candidates to
fill the quota of a model holding `share` of the lane (1,800 for a 1% model at
k=12), while one small graph per model answers each quota directly. Measured
when choosing (200k rows, 10 models, k=12, usearch alone): shared graph 15.7 ms
per query at recall 0.90, per-model graphs 3.9 ms at recall 0.82; per-model
graphs also build 1.5x faster. So:

- a model with at most `MODEL_EXACT_MAX` rows is scanned exactly: integer dot
  products of its int8 codes with the query's int8 code (the cosine the graphs
  compute);
- a larger model gets its own HNSW graph (ann.py) over its rows in order;
  rows written since (the model's *tail*) are scanned exactly until the
  background indexer (`advance`) moves them in, in short steps, so a write
  never waits for a graph insert.

Visibility: a query sees rows of the users it names (always including 0,
shared). Rows of other users are filtered out; a graph search over-fetches
by the model's share of invisible rows, and a model with few visible rows is
scanned exactly instead.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from minima_grpc.memory.embedded.ann import AnnIndex
from minima_grpc.memory.embedded.embedder import DIM, EMBEDDER_ID, Codes, Vector, quantize
from minima_grpc.memory.embedded.growable import Growable
from minima_grpc.memory.embedded.sweep import SINGLE_THREAD, DotSweep

# Up to this many rows a model is scanned, beyond it searched in its graph. The
# engine asks 128 per model, and a graph search that deep costs ~0.8 ms per
# model, the scan of ~36k int8 rows. `python -m bench engine`, 26 models:
# recall at 200k outcomes 20.6 ms with graphs past 4,096 rows, 9.3 ms scanned;
# at 500k 66 ms with graphs past 16,384, 20 ms scanned.
MODEL_EXACT_MAX = 32_768
# Search results are ranked by one int64 per row: a score's distance from 1.0
# in float32 bits (below 2**30), then the row's key in the low bits.
_KEY_BITS = 33
_ONE_BITS = int(np.float32(1.0).view(np.int32))
# Rows the indexer adds per step: bounds how long a search waits for the graphs.
ADVANCE_STEP = 128
OVERFETCH = 1.5
MAX_FETCH = 2_048
# A model graph is saved after it grew by this much (and by a quarter, up to
# GRAPH_SAVE_MAX): a restart re-inserts at most that many of its rows.
GRAPH_SAVE_MIN = 16_384
GRAPH_SAVE_MAX = 100_000

Positions = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]
Found = tuple[Positions, Scores]


@dataclass(frozen=True, slots=True)
class Want:
    """What a recall asks of the index (codes, not names)."""

    users: tuple[int, ...]
    models: tuple[int, ...] | None = None
    per_model_k: int = 0
    k: int = 32


class Hits(NamedTuple):
    """Rows a search found, most similar first (ties: lower key first)."""

    keys: npt.NDArray[np.int64]
    similarity: npt.NDArray[np.float64]  # in [0, 1]
    positions: Positions  # the rows' places in the lane (labels.py keeps the same places)


class LaneIndex:
    """Vectors of one lane; thread-safe.

    Two locks, always taken graph-then-rows: `_lock` guards the arrays (held
    briefly by writers and by searches), `_graph_lock` guards the graphs (held
    by searches and by the indexer while it inserts). A writer never waits for
    a graph insert; only the indexer thread grows graphs.
    """

    def __init__(
        self, tag: str, graph_path: Callable[[int], Path], sweep: DotSweep = SINGLE_THREAD
    ) -> None:
        # `tag` identifies the lane's rows in graph fingerprints; `graph_path(model)`
        # is where that model's graph is saved; `sweep` scores scanned rows.
        self._tag = tag
        self._graph_path = graph_path
        self._sweep = sweep
        self._lock = threading.Lock()
        self._graph_lock = threading.Lock()
        self._keys = Growable(np.int64)
        self._models = Growable(np.int32)
        self._users = Growable(np.int32)
        self._codes = Growable(np.int8, DIM)
        # 1 / |code| per row: scores straight from int8 codes.
        self._inverse_norms = Growable(np.float32)
        self._by_model: dict[int, Growable] = {}
        self._by_pair: dict[tuple[int, int], Growable] = {}
        self._graphs: dict[int, AnnIndex] = {}
        self._saved: Counter[int] = Counter()

    # -- writes ---------------------------------------------------------------

    def append(
        self, keys: Sequence[int], models: Sequence[int], users: Sequence[int], codes: Codes
    ) -> None:
        with self._lock:
            self._extend(keys, models, users, codes)

    def load(
        self, keys: Sequence[int], models: Sequence[int], users: Sequence[int], codes: Codes
    ) -> None:
        """Start-up: take the stored rows, and each saved graph that still matches them."""
        with self._graph_lock, self._lock:
            self._extend(keys, models, users, codes)
            for model, rows in self._by_model.items():
                path = self._graph_path(model)
                if len(rows) <= MODEL_EXACT_MAX:
                    AnnIndex.discard(path)  # saved when graphs started at fewer rows
                    continue
                graph = AnnIndex.restore(path, partial(self._fingerprint, model))
                if graph is None:
                    AnnIndex.discard(path)
                else:
                    self._graphs[model] = graph
                    self._saved[model] = len(graph)

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
        pairs = model_arr.astype(np.int64) << 32 | user_arr.astype(np.int64)
        for pair in np.unique(pairs):
            model, user = int(pair >> 32), int(pair & 0xFFFFFFFF)
            chosen = positions[pairs == pair]
            self._by_model.setdefault(model, Growable(np.int64)).extend(chosen)
            self._by_pair.setdefault((model, user), Growable(np.int64)).extend(chosen)

    @property
    def size(self) -> int:
        return len(self._keys)

    def _backlog_of(self, model: int) -> int:
        count = len(self._by_model[model])
        if count <= MODEL_EXACT_MAX:
            return 0
        graph = self._graphs.get(model)
        return count - (len(graph) if graph else 0)

    def backlog(self) -> int:
        """Rows waiting to enter their model's graph."""
        with self._lock:
            return sum(self._backlog_of(m) for m in self._by_model)

    @property
    def graph_rows(self) -> int:
        return sum(len(g) for g in self._graphs.values())

    def advance(self, threads: int) -> int:
        """Move up to ADVANCE_STEP rows of the most behind model into its graph.

        Called by the indexer thread only; returns how many rows moved.
        """
        with self._lock:
            model = max(self._by_model, key=self._backlog_of, default=None)
            if model is None or not self._backlog_of(model):
                return 0
            done = len(self._graphs[model]) if model in self._graphs else 0
            rows = self._by_model[model].view()[done : done + ADVANCE_STEP]
            block = self._codes.view()[rows]
        with self._graph_lock:
            graph = self._graphs.setdefault(model, AnnIndex())
            graph.add(rows, block, threads)
        return len(rows)

    # -- graph cache ------------------------------------------------------------

    def _fingerprint(self, model: int, count: int) -> str | None:
        rows = self._by_model.get(model)
        if rows is None or not 0 < count <= len(rows):
            return None
        last = int(self._keys.view()[rows.view()[count - 1]])
        return f"{EMBEDDER_ID}:{self._tag}:{model}:{count}:{last}"

    def save_graphs(self, *, force: bool) -> None:
        """Save each graph that grew enough since its last save (any growth if `force`).

        Only the indexer thread (or close, after it stopped) grows graphs, and
        it is the caller, so a graph cannot change while it is written.
        """
        for model, graph in list(self._graphs.items()):
            count, saved = len(graph), self._saved[model]
            due = min(GRAPH_SAVE_MAX, max(GRAPH_SAVE_MIN, saved // 4))
            if count > saved and (force or count - saved >= due):
                with self._lock:
                    fingerprint = self._fingerprint(model, count)
                if fingerprint is not None:
                    graph.save(self._graph_path(model), fingerprint)
                    self._saved[model] = count

    # -- reads ----------------------------------------------------------------

    def search(self, query: Vector, want: Want) -> Hits:
        """Nearest visible rows as the request asks, each once, most similar first."""
        # Scans and graphs alike score the rows against the query's int8 code.
        code = quantize(query[None, :])[0]
        with self._graph_lock, self._lock:
            models = list(self._by_model) if want.models is None else list(want.models)
            if want.per_model_k > 0 and want.models is not None:
                positions, scores = self._nearest_per_model(
                    code, models, want.users, want.per_model_k
                )
            else:
                positions, scores = self._nearest_overall(code, models, want.users, want.k)
            keys = self._keys.view()[positions]
        # (+ 0.0 turns a clipped -0.0 into 0.0, which _rank_order needs)
        similarity = np.clip(np.nan_to_num(scores.astype(np.float64)), 0.0, 1.0) + 0.0
        order = _rank_order(similarity, keys)
        return Hits(keys[order], similarity[order], positions[order])

    def _visible(self, model: int, users: tuple[int, ...]) -> Positions:
        parts = [self._by_pair[(model, u)].view() for u in users if (model, u) in self._by_pair]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    def _visible_count(self, model: int, users: tuple[int, ...]) -> int:
        return sum(len(self._by_pair[(model, u)]) for u in users if (model, u) in self._by_pair)

    def _score(self, code: Codes, positions: Positions) -> Scores:
        """Cosine of the rows' int8 codes and the query's int8 code, as the graphs
        compute it, from exact integer dot products (numkong's SIMD kernels): a
        row scores the same to the bit however the scan was done. A quarter of
        the bytes of float32 rows to read: 0.18 ms for 10k rows where a float32
        product took 0.25 ms, 0.54 ms for 30k where it took 2.5 ms."""
        norm = float(np.linalg.norm(code.astype(np.float32)))
        codes = self._codes.view()
        if not len(positions) or norm == 0.0:
            return np.zeros(len(positions), np.float32)
        scale = np.float32(1.0 / norm)
        if 2 * len(positions) < len(codes):
            scores: Scores = self._sweep.dots(codes[positions], code)
            scores *= self._inverse_norms.view()[positions]
            scores *= scale
            return scores
        # Most rows: one sweep of the lane, scored in lane order, beats gathering
        # codes (and the scores are gathered once, not the dots and the norms).
        every = self._sweep.dots(codes, code)
        every *= self._inverse_norms.view()
        every *= scale
        return every[positions]

    def _nearest_of(self, code: Codes, model: int, users: tuple[int, ...], k: int) -> Found:
        """Up to `k` nearest visible rows of one model."""
        graph = self._graphs.get(model)
        visible = self._visible_count(model, users)
        if graph is None or visible <= MODEL_EXACT_MAX:
            positions = self._visible(model, users)
            return _top(positions, self._score(code, positions), k)
        rows = self._by_model[model].view()
        tail = rows[len(graph) :]
        tail = tail[np.isin(self._users.view()[tail], users)]
        tail_found = (tail, self._score(code, tail))
        # Over-fetch by the share of this model's graph rows the caller cannot see.
        fetch = min(MAX_FETCH, len(graph), math.ceil(OVERFETCH * k * len(rows) / visible))
        while True:
            positions, scores = graph.search(code, fetch)
            keep = np.isin(self._users.view()[positions], users)
            found = _top(*_concat([(positions[keep], scores[keep]), tail_found]), k)
            if len(found[0]) >= k or fetch >= min(MAX_FETCH, len(graph)):
                return found
            fetch = min(MAX_FETCH, len(graph), fetch * 4)

    def _searched(self, model: int, users: tuple[int, ...]) -> bool:
        """Whether this model's visible rows are found through its graph (else scanned)."""
        return model in self._graphs and self._visible_count(model, users) > MODEL_EXACT_MAX

    def _nearest_per_model(
        self, code: Codes, models: Sequence[int], users: tuple[int, ...], k: int
    ) -> Found:
        """Up to `k` per model: graphs searched one by one, the rest scanned in one pass."""
        models = [m for m in dict.fromkeys(models) if m in self._by_model]
        searched = [m for m in models if self._searched(m, users)]
        scanned = [m for m in models if m not in searched]
        found = [self._nearest_of(code, m, users, k) for m in searched]
        if scanned:
            parts = [self._visible(m, users) for m in scanned]
            positions = np.concatenate(parts)
            scores = self._score(code, positions)
            # Each model's rows are one slice of `positions`, in the order of `scanned`.
            ends = np.cumsum([len(part) for part in parts]).tolist()
            found.extend(
                _top(positions[start:end], scores[start:end], k)
                for start, end in pairwise([0, *ends])
            )
        return _concat(found)

    def _nearest_overall(
        self, code: Codes, models: Sequence[int], users: tuple[int, ...], k: int
    ) -> Found:
        """The `k` nearest visible rows among `models`: graphs searched, the rest scanned."""
        scanned: list[Positions] = []
        found: list[Found] = []
        for model in models:
            if model not in self._by_model:
                continue
            if self._searched(model, users):
                found.append(self._nearest_of(code, model, users, k))
            else:
                scanned.append(self._visible(model, users))
        if scanned:
            positions = np.concatenate(scanned)
            found.append(_top(positions, self._score(code, positions), k))
        return _top(*_concat(found), k)


def _rank_order(similarity: npt.NDArray[np.float64], keys: npt.NDArray[np.int64]) -> Positions:
    """Most similar first, ties by lower key: the order of lexsort((keys, -similarity)).

    Scores are float32s, and for non-negative floats the bits order like the
    values, so (1.0's bits - a score's bits) << 33 | key is one int64 in the
    wanted order. Keys are unique, so its (unstable, several times faster)
    argsort leaves nothing to chance. Keys past 2**33 take the two-key sort.
    """
    if not len(keys) or int(keys.max()) >= 1 << _KEY_BITS or int(keys.min()) < 0:
        order: Positions = np.lexsort((keys, -similarity))
        return order
    bits = similarity.astype(np.float32).view(np.int32).astype(np.int64)
    packed = ((_ONE_BITS - bits) << _KEY_BITS) | keys
    order = np.argsort(packed)
    return order


def _top(positions: Positions, scores: Scores, count: int) -> Found:
    if count <= 0:
        return _concat([])
    if len(positions) > count:
        keep = np.argpartition(-scores, count - 1)[:count]
        positions, scores = positions[keep], scores[keep]
    return positions, scores


def _concat(parts: Sequence[Found]) -> Found:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    return (
        np.concatenate([p for p, _ in parts]),
        np.concatenate([s for _, s in parts]).astype(np.float32),
    )
