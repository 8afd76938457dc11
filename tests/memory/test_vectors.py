"""The lane index: exact scans and per-model graphs answer alike; quotas, visibility, cache."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from minima_grpc.memory.embedded import vectors
from minima_grpc.memory.embedded.embedder import DocFrequencies, Features, embed, quantize
from minima_grpc.memory.embedded.vectors import Hits, LaneIndex, Want

WORDS = [f"w{i}" for i in range(400)]


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=12)) for _ in range(count)]


@pytest.fixture
def small_tiers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds scaled down so a few hundred rows exercise the graphs."""
    monkeypatch.setattr(vectors, "MODEL_EXACT_MAX", 40)
    monkeypatch.setattr(vectors, "ADVANCE_STEP", 64)


def _graphs_in(directory: Path) -> Callable[[int], Path]:
    return lambda model: directory / f"model-{model}.usearch"


def _codes(texts: list[str]) -> tuple[np.ndarray, DocFrequencies]:
    df = DocFrequencies()
    features = [Features(t) for t in texts]
    df.add(features)
    return quantize(embed(features, df)), df


def _lane(
    texts: list[str], models: list[int], users: list[int], directory: Path = Path("/nonexistent")
) -> tuple[LaneIndex, np.ndarray]:
    codes, df = _codes(texts)
    index = LaneIndex("test", _graphs_in(directory))
    index.append(list(range(len(texts))), models, users, codes)
    return index, embed([Features(t) for t in _texts(30, seed=99)], df)


def _build(index: LaneIndex) -> None:
    while index.advance(threads=1):
        pass


def _keys(hits: Hits) -> list[int]:
    keys: list[int] = hits.keys.tolist()
    return keys


def test_graph_tier_agrees_with_exact_search(small_tiers: None) -> None:
    texts = _texts(600, seed=1)
    models = [i % 3 for i in range(600)]
    exact, queries = _lane(texts, models, [0] * 600)  # never indexed: scanned exactly
    graph, _ = _lane(texts, models, [0] * 600)
    _build(graph)
    assert graph.backlog() == 0
    assert graph.graph_rows == 600

    overlap = []
    for query in queries:
        want = Want(users=(0,), k=10)
        truth = set(_keys(exact.search(query, want)))
        found = graph.search(query, want)
        overlap.append(len(truth & set(_keys(found))) / 10)
        assert list(found.similarity) == sorted(found.similarity, reverse=True)
        assert len(set(_keys(found))) == len(found.keys)
    assert np.mean(overlap) > 0.8


def test_a_scan_scores_int8_codes_exactly() -> None:
    """A scan scores the int8 codes against the query's int8 code - the cosine
    the graphs compute - from exact integer dot products: the same to the bit
    whether it sweeps the lane (most rows visible) or gathers them (few), and
    within int8 rounding of the float cosine."""
    count = 1_003
    texts = _texts(count, seed=6)
    models = np.array([1 if i % 10 == 0 else 0 for i in range(count)])  # model 0: 90%
    users = np.array([1 if i % 7 == 3 else 0 for i in range(count)])  # user 1: private
    index, queries = _lane(texts, models.tolist(), users.tolist())
    codes = _codes(texts)[0]
    inverse = np.float32(1.0) / np.linalg.norm(codes.astype(np.float32), axis=1)

    def expected(query: np.ndarray, want: Want) -> tuple[list[int], list[float]]:
        assert want.models is not None
        parts = [
            np.flatnonzero((models == m) & (users == u)) for m in want.models for u in want.users
        ]
        rows = np.concatenate(parts)
        code = quantize(query[None, :])[0]
        dots = codes[rows].astype(np.int64) @ code.astype(np.int64)
        scale = np.float32(1.0 / np.linalg.norm(code.astype(np.float32)))
        scores = dots.astype(np.float32) * inverse[rows] * scale
        # cosine of int8 codes: close to the float vectors' cosine
        cosine = (codes[rows].astype(np.float32) * inverse[rows, None]) @ query
        assert np.abs(scores - cosine).max() < 0.02
        # All rows are kept (per_model_k covers them), in the index's order:
        # similarity clipped to [0, 1], most similar first, ties by key.
        kept = sorted(
            ((min(1.0, max(0.0, float(s))), int(r)) for s, r in zip(scores, rows, strict=True)),
            key=lambda pair: (-pair[0], pair[1]),
        )
        return [r for _, r in kept], [s for s, _ in kept]

    wants = [  # every visible row, so that every score is compared
        Want(users=(0,), models=(0,), per_model_k=count),  # ~77% of the lane: swept
        Want(users=(0, 1), models=(0, 1), per_model_k=count),  # all of it: swept
        Want(users=(0, 1), models=(1,), per_model_k=count),  # ~10%: gathered
    ]
    for query in queries:
        for want in wants:
            hits = index.search(query, want)
            assert (_keys(hits), hits.similarity.tolist()) == expected(query, want)


@pytest.mark.parametrize("largest_key", [10**9, 2**40])  # past 2**33: the two-key sort
def test_hits_rank_by_similarity_then_by_lower_key(largest_key: int) -> None:
    # Each text stored for three models (equal scores), under keys out of insertion order.
    texts = [t for t in _texts(40, seed=4) for _ in range(3)]
    codes, df = _codes(texts)
    keys = random.Random(4).sample(range(1, largest_key), len(texts))
    index = LaneIndex("test", _graphs_in(Path("/nonexistent")))
    index.append(keys, [i % 3 for i in range(len(texts))], [0] * len(texts), codes)
    query = embed([Features(texts[0])], df)[0]

    for want in (Want(users=(0,), k=60), Want(users=(0,), models=(0, 1, 2), per_model_k=20)):
        hits = index.search(query, want)
        found = list(zip(hits.similarity.tolist(), _keys(hits), strict=True))
        assert found == sorted(found, key=lambda hit: (-hit[0], hit[1]))
        assert len(set(hits.similarity.tolist())) < len(hits.keys)  # there were ties


def test_per_model_quota_is_filled_for_rare_and_popular_models(small_tiers: None) -> None:
    texts = _texts(500, seed=2)
    models = [0] * 480 + [1] * 15 + [2] * 5  # model 2 is rare
    index, queries = _lane(texts, models, [0] * 500)
    _build(index)

    hits = index.search(queries[0], Want(users=(0,), models=(0, 1, 2, 7), per_model_k=8))

    counts = np.bincount([models[key] for key in _keys(hits)], minlength=3)
    assert counts.tolist() == [8, 8, 5]


def test_rows_written_after_the_graph_are_found_in_the_tail(small_tiers: None) -> None:
    texts = _texts(300, seed=3)
    index, _ = _lane(texts, [0] * 300, [0] * 300)
    _build(index)
    _, df = _codes(texts)
    fresh = quantize(embed([Features("brand new words entirely unseen before")], df))
    index.append([300], [0], [0], fresh)

    assert index.backlog() == 1
    hits = index.search(
        embed([Features("brand new words entirely unseen")], df)[0], Want(users=(0,), k=1)
    )
    assert _keys(hits) == [300]


def test_other_users_rows_are_invisible_in_both_tiers(small_tiers: None) -> None:
    texts = _texts(400, seed=4)
    users = [i % 3 for i in range(400)]  # 0 shared, 1 and 2 private
    for build_graph in (False, True):
        index, queries = _lane(texts, [0] * 400, users)
        if build_graph:
            _build(index)
        for query in queries[:5]:
            seen = {users[key] for key in _keys(index.search(query, Want(users=(0, 1), k=50)))}
            assert seen <= {0, 1}
            seen = {users[key] for key in _keys(index.search(query, Want(users=(0, 2), k=50)))}
            assert 2 in seen
            assert 1 not in seen


def _saved_graph(texts: list[str], directory: Path) -> tuple[Path, np.ndarray]:
    """One model's lane, its graph built and saved in `directory`: the path, and queries."""
    index, queries = _lane(texts, [0] * len(texts), [0] * len(texts), directory)
    _build(index)
    index.save_graphs(force=True)
    graph = _graphs_in(directory)(0)
    assert graph.exists()
    return graph, queries


def test_saved_graph_is_reused_only_for_the_same_rows(small_tiers: None, tmp_path: Path) -> None:
    texts = _texts(300, seed=5)
    graph, queries = _saved_graph(texts, tmp_path)

    codes, _ = _codes(texts)
    same = LaneIndex("test", _graphs_in(tmp_path))
    same.load(list(range(300)), [0] * 300, [0] * 300, codes)
    assert same.graph_rows == 300
    assert same.backlog() == 0

    other = LaneIndex("test", _graphs_in(tmp_path))
    other.load(list(range(1000, 1300)), [0] * 300, [0] * 300, codes)
    assert other.graph_rows == 0  # different rows: the stale graph is dropped
    assert not graph.exists()
    assert len(other.search(queries[0], Want(users=(0,), k=3)).keys) == 3


def test_a_saved_graph_of_a_model_now_scanned_is_dropped(
    small_tiers: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _texts(300, seed=7)
    graph, queries = _saved_graph(texts, tmp_path)

    monkeypatch.setattr(vectors, "MODEL_EXACT_MAX", 300)  # graphs now start past 300 rows
    scanned = LaneIndex("test", _graphs_in(tmp_path))
    scanned.load(list(range(300)), [0] * 300, [0] * 300, _codes(texts)[0])
    assert scanned.graph_rows == 0
    assert not graph.exists()
    assert len(scanned.search(queries[0], Want(users=(0,), k=3)).keys) == 3
