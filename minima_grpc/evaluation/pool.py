"""Run an async job over items with bounded concurrency; the first error stops the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


async def for_each(
    items: Sequence[T], job: Callable[[T], Awaitable[None]], concurrency: int
) -> None:
    pending = iter(items)  # shared: every worker takes the next unclaimed item

    async def worker() -> None:
        for item in pending:
            await job(item)

    workers = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, len(items))))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
