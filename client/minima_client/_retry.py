"""Retry policy: bounded exponential backoff with full jitter.

Every client method is safe to repeat (reads are side-effect free and feedback
always carries an idempotency key), so the policy depends only on the error:
transport failures and 502/503/504 are retried, anything else (4xx included)
is raised at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .errors import MinimaError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`max_retries` extra attempts after the first; the n-th wait is drawn
    uniformly from [0, min(max_backoff, backoff * 2**n)] seconds."""

    max_retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("max_retries, backoff and max_backoff must be >= 0")

    def delay(self, retry: int, error: MinimaError) -> float | None:
        """Seconds to wait before retry number `retry` (0-based), or None to give up."""
        if retry >= self.max_retries or not error.retryable:
            return None
        return random.uniform(0.0, min(self.max_backoff, self.backoff * 2**retry))


def run(policy: RetryPolicy, attempt: Callable[[], T]) -> T:
    """Call `attempt` until it succeeds or the policy gives up."""
    retry = 0
    while True:
        try:
            return attempt()
        except MinimaError as error:
            delay = policy.delay(retry, error)
            if delay is None:
                raise
        time.sleep(delay)
        retry += 1


async def arun(policy: RetryPolicy, attempt: Callable[[], Awaitable[T]]) -> T:
    """Async twin of `run`."""
    retry = 0
    while True:
        try:
            return await attempt()
        except MinimaError as error:
            delay = policy.delay(retry, error)
            if delay is None:
                raise
        await asyncio.sleep(delay)
        retry += 1
