"""Dot products of int8 codes, split across threads or not, are exact."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from minima_grpc.memory.embedded.embedder import DIM
from minima_grpc.memory.embedded.sweep import SINGLE_THREAD, SPLIT_FROM, DotSweep


@pytest.fixture(scope="module")
def three_threads() -> Iterator[DotSweep]:
    sweep = DotSweep(3)
    yield sweep
    sweep.close()


@pytest.mark.parametrize("rows", [0, 1, SPLIT_FROM - 1, 2 * SPLIT_FROM, 3 * SPLIT_FROM + 7])
def test_every_row_gets_its_exact_dot_product(three_threads: DotSweep, rows: int) -> None:
    rng = np.random.default_rng(rows)
    codes = rng.integers(-128, 128, (rows, DIM), dtype=np.int8)
    codes[:1] = -128  # the largest magnitudes a sum can reach, with the query below
    query = np.full(DIM, -128, dtype=np.int8)
    expected = codes.astype(np.int64) @ query.astype(np.int64)
    for sweep in (SINGLE_THREAD, three_threads):
        dots = sweep.dots(codes, query)
        assert dots.shape == (rows,)
        assert np.array_equal(dots.astype(np.int64), expected)
