"""Recall with a deadline: memory trouble degrades to prior-only, never fails
the recommendation. Only a rejected key (Unauthenticated) propagates."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.types import Scope
from minima_grpc.memory.protocol import Memory, Neighbours, RecallQuery

log = logging.getLogger(__name__)

RECALL_TIMEOUT = "recall_timeout"
MEMORY_UNAVAILABLE = "memory_unavailable"


@dataclass(frozen=True, slots=True)
class RecallResult:
    neighbours: Neighbours
    # recall_timeout | memory_unavailable | None when recall answered
    warning: str | None
    elapsed_ms: float


async def recall_neighbours(
    memory: Memory, scope: Scope, query: RecallQuery, timeout_ms: int
) -> RecallResult:
    started = time.perf_counter()

    def done(neighbours: Neighbours, warning: str | None) -> RecallResult:
        return RecallResult(neighbours, warning, (time.perf_counter() - started) * 1000.0)

    try:
        # (a timeout scope, not wait_for: no extra task per recommendation)
        async with asyncio.timeout(timeout_ms / 1000.0):
            found = await memory.recall(scope, query)
    except Unauthenticated:
        raise
    except TimeoutError:
        log.warning("recall exceeded %d ms; answering from priors", timeout_ms)
        return done(Neighbours.empty(), RECALL_TIMEOUT)
    except Exception:
        log.exception("recall failed; answering from priors")
        return done(Neighbours.empty(), MEMORY_UNAVAILABLE)
    return done(found, None)
