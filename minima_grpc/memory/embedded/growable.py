"""An append-only numpy buffer with amortised O(1) appends."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


class Growable:
    """Rows of a fixed width (width 0: a 1-D array) that can be appended in bulk.

    `view()` returns the filled part without copying; a later append may
    reallocate, so a caller keeps a view only while it holds the owner's lock.
    """

    __slots__ = ("_data", "_size")

    def __init__(self, dtype: npt.DTypeLike, width: int = 0, capacity: int = 64) -> None:
        shape = (capacity, width) if width else (capacity,)
        self._data: npt.NDArray[Any] = np.empty(shape, dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def view(self) -> npt.NDArray[Any]:
        return self._data[: self._size]

    def extend(self, rows: npt.ArrayLike) -> None:
        block = np.asarray(rows, self._data.dtype)
        needed = self._size + len(block)
        if needed > len(self._data):
            grown = np.empty((max(needed, 2 * len(self._data)), *self._data.shape[1:]), block.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : needed] = block
        self._size = needed

    def drop_front(self, count: int) -> None:
        """Forget the first `count` rows (copies the rest into a right-sized buffer)."""
        kept = self._data[count : self._size].copy()
        self._data = np.empty((max(64, 2 * len(kept)), *self._data.shape[1:]), kept.dtype)
        self._data[: len(kept)] = kept
        self._size = len(kept)
