"""What recall reports of each outcome of a lane, kept in memory beside its vectors.

Reading these columns from SQLite cost ~1 us per neighbour plus a Python tuple
per row: 15-30 ms for a recall of 3,328 neighbours (128 per model, 26 models),
where gathering them from numpy arrays costs a fraction of a millisecond.
Entry ids are formatted once, as rows are added: formatting the few hundred
a recommendation keeps (their ints to text) cost more than the rest of
reading them, for ~80 bytes a row.
SQLite stays the source of truth (one process owns the file, registry.py):
rows are loaded from it at start-up and added after each committed insert, a
confidence is changed after its reinforcement committed.

Row i here is row i of the lane's vector index (vectors.py): both take the
lane's rows in the same order, labels first (start-up reads them `ORDER BY
seq`; inserts are added after commit, under the write lock), so keys ascend
and a row the index finds is always here. Outcomes are never deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from minima_grpc.memory.embedded import codec
from minima_grpc.memory.embedded.growable import Growable
from minima_grpc.memory.protocol import BoolArray, FloatArray, IdArray, IntArray

Int64Array = npt.NDArray[np.int64]

# Values SQLite returns for codec.LABEL_COLUMNS, in that order.
STORED = {
    "quality": np.float64,
    "recorded_us": np.int64,
    "cost_usd": np.float64,  # NaN when unknown (NULL)
    "output_tokens": np.float64,  # NaN when unknown (NULL)
    "seeded": np.bool_,
    "confidence": np.float64,
}


class Found(NamedTuple):
    """Columns of the rows found, in the order asked; `at` says which of the asked they are."""

    at: IntArray
    model: npt.NDArray[np.int32]
    quality: FloatArray
    recorded_us: Int64Array
    cost_usd: FloatArray
    output_tokens: FloatArray
    seeded: BoolArray
    confidence: FloatArray
    entry_ids: IdArray


class LaneLabels:
    """Recall's columns of one lane's outcomes, by position; thread-safe."""

    def __init__(self, file_id: str) -> None:
        self._file_id = file_id
        self._lock = threading.Lock()
        self._keys = Growable(np.int64)
        self._users = Growable(np.int32)
        self._columns = {"model": Growable(np.int32)}
        self._columns.update((name, Growable(dtype)) for name, dtype in STORED.items())
        self._entry_ids = Growable(np.object_)

    def __len__(self) -> int:
        return len(self._keys)

    def append(
        self,
        keys: Sequence[int],
        models: Sequence[int],
        users: Sequence[int],
        stored: Sequence[Sequence[Any]],
    ) -> None:
        """Add rows after the last, with larger keys; `stored`: codec.LABEL_COLUMNS per row."""
        if not keys:
            return
        values = dict(zip(STORED, zip(*stored, strict=True), strict=True))
        entry_ids = [codec.entry_id(self._file_id, key) for key in keys]
        with self._lock:
            self._keys.extend(keys)
            self._users.extend(users)
            self._columns["model"].extend(models)
            for name, dtype in STORED.items():
                # np.array turns None into NaN for a float dtype
                self._columns[name].extend(np.array(values[name], dtype=dtype))
            self._entry_ids.extend(entry_ids)

    def set_confidence(self, keys: Sequence[int], confidence: Sequence[float]) -> None:
        """Take the confidences a committed reinforcement stored (of rows held here)."""
        if not keys:
            return
        with self._lock:
            at = np.searchsorted(self._keys.view(), keys)
            self._columns["confidence"].view()[at] = confidence

    def find(self, positions: Int64Array, keys: Int64Array, users: Sequence[int]) -> Found:
        """Columns of the rows at `positions` written by one of `users`. A row whose
        key is not the one expected is left out (a safeguard: places always agree)."""
        with self._lock:
            held = self._keys.view()
            inside = positions < len(held)
            inside[inside] = held[positions[inside]] == keys[inside]
            at = np.flatnonzero(inside)
            at = at[np.isin(self._users.view()[positions[at]], users)]
            rows = positions[at]
            # (every field but `at` and `entry_ids`, in Found's order)
            columns = [self._columns[name].view()[rows] for name in Found._fields[1:-1]]
            # (a view of the ids held: later rows go past its end or into a new buffer)
            entry_ids = IdArray(self._entry_ids.view(), rows)
        return Found._make((at, *columns, entry_ids))
