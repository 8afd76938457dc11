"""Approximate nearest neighbours: a usearch HNSW graph over int8 codes.

Keys are lane positions (vectors.py). The graph is a cache:
SQLite holds every vector, so a missing, stale or unreadable graph file is
rebuilt, never trusted. A sidecar JSON names exactly which rows the saved
graph covers (`fingerprint`); a graph whose fingerprint does not match the
rows loaded from SQLite is ignored.

Parameters measured with `python -m bench.memory_bench tiers` (synthetic
prompts, 2 cores): connectivity 16 and expansion 40 while adding build
13k-50k rows/s; searching with an expansion of at least 64 finds 0.99 / 0.95 /
0.85 of the true top-10 at 4k / 16k / 64k rows in 0.3-0.6 ms. An exact scan
costs 0.15 / 1.6 / 17 ms there, hence graphs only above 4,096 rows per model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from usearch.index import Index

from minima_grpc.memory.embedded.embedder import DIM, Codes

CONNECTIVITY = 16
EXPANSION_ADD = 40
MIN_EXPANSION_SEARCH = 64
_SIDECAR_SUFFIX = ".json"


class AnnIndex:
    """The graph of one model's rows in one lane."""

    __slots__ = ("_index",)

    def __init__(self, index: Index | None = None) -> None:
        self._index = index or Index(
            ndim=DIM,
            metric="cos",
            dtype="i8",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
        )

    def __len__(self) -> int:
        return len(self._index)

    def add(self, positions: np.ndarray, codes: Codes, threads: int) -> None:
        self._index.add(positions.astype(np.uint64), codes, threads=threads)

    def search(self, query: Codes, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions of about the `count` nearest codes and their cosine similarity."""
        # usearch declares this setter after the getter's sibling; mypy misreads it.
        self._index.expansion_search = max(MIN_EXPANSION_SEARCH, count)  # type: ignore[misc]
        matches = self._index.search(query, count, threads=1)
        found = len(matches)
        positions = np.asarray(matches.keys, dtype=np.int64)[:found]
        similarities = 1.0 - np.asarray(matches.distances, dtype=np.float32)[:found]
        return positions, similarities

    def save(self, path: Path, fingerprint: str) -> None:
        """Write graph + sidecar atomically (a crash leaves the old pair or none)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar = path.with_name(path.name + _SIDECAR_SUFFIX)
        sidecar.unlink(missing_ok=True)
        scratch = path.with_name(path.name + ".tmp")
        self._index.save(str(scratch))
        os.replace(scratch, path)
        scratch_sidecar = sidecar.with_name(sidecar.name + ".tmp")
        scratch_sidecar.write_text(json.dumps({"fingerprint": fingerprint, "count": len(self)}))
        os.replace(scratch_sidecar, sidecar)

    @classmethod
    def restore(cls, path: Path, fingerprint_of: Callable[[int], str | None]) -> AnnIndex | None:
        """The saved graph if its sidecar matches `fingerprint_of(count)`, else None.

        `fingerprint_of(count)` is the fingerprint the first `count` rows have now
        (None if there are fewer rows).
        """
        sidecar = path.with_name(path.name + _SIDECAR_SUFFIX)
        try:
            meta = json.loads(sidecar.read_text())
            count = int(meta["count"])
            if fingerprint_of(count) != meta["fingerprint"]:
                return None
            index = Index.restore(str(path))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            return None
        if index is None or len(index) != count or index.ndim != DIM:
            return None
        return cls(index)

    @staticmethod
    def discard(path: Path) -> None:
        path.unlink(missing_ok=True)
        path.with_name(path.name + _SIDECAR_SUFFIX).unlink(missing_ok=True)
