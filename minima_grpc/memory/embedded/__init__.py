"""The embedded memory backend: SQLite (WAL) + a local embedder + vector indexes.

No other server, nothing downloaded. `open_embedded` opens (or creates) the
store under a data directory and returns the `Memory` and the
`RecommendationStore` that share it.
"""

from __future__ import annotations

from pathlib import Path

from minima_grpc.memory.embedded.errors import (
    InvalidRecordError,
    MemoryOpenError,
    MemoryUnavailableError,
)
from minima_grpc.memory.embedded.memory import EmbeddedMemory
from minima_grpc.memory.embedded.recstore import EmbeddedRecommendationStore
from minima_grpc.memory.embedded.registry import TenantRegistry
from minima_grpc.memory.embedded.runner import StoreRunner
from minima_grpc.memory.embedded.settings import EmbeddedSettings

__all__ = [
    "EmbeddedMemory",
    "EmbeddedRecommendationStore",
    "EmbeddedSettings",
    "InvalidRecordError",
    "MemoryOpenError",
    "MemoryUnavailableError",
    "open_embedded",
]


def open_embedded(
    data_dir: Path, settings: EmbeddedSettings | None = None
) -> tuple[EmbeddedMemory, EmbeddedRecommendationStore]:
    """Open the store (blocking: call at start-up). Raises MemoryOpenError."""
    settings = settings or EmbeddedSettings()
    runner = StoreRunner(TenantRegistry.open(data_dir, settings), settings.workers)
    return EmbeddedMemory(runner), EmbeddedRecommendationStore(runner)
