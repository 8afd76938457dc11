"""Tunables of the embedded memory (defaults documented where they are used)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EmbeddedSettings:
    # How long a recommendation (and a feedback claim) can be joined by feedback.
    recommendation_ttl: timedelta = timedelta(days=7)
    # Outcomes older than this are recalled with is_stale=True.
    stale_after: timedelta = timedelta(days=90)
    # FULL: a commit is on disk (fsync) before remember() returns, so an
    # acknowledged write survives kill -9 *and* power loss. NORMAL (WAL) survives
    # kill -9 only; measured here FULL costs ~0.3 ms per commit, and concurrent
    # writes share one commit (memory.py), so FULL is the default.
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # How long an operation waits for a lock held by another connection.
    busy_timeout_s: float = 5.0
    # Threads running SQLite/numpy work off the event loop (bounded).
    workers: int = 4
    # Threads the background indexer gives each HNSW insert.
    index_threads: int = 1
    # Threads sharing one scan of many rows (sweep.py): the machine's cores, up to 4.
    scan_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    clock: Callable[[], datetime] = field(default=utc_now)
