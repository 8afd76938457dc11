"""Group commit: concurrent writes of one tenant share one transaction.

With synchronous=FULL every commit waits for the disk. While one batch is
being committed, new writes queue up and go together in the next commit, so
throughput grows with concurrency instead of being capped by fsync latency;
a lone write is committed at once. Each caller still returns only after its
own record is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 512


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]) -> None:
        self._commit = commit
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
            try:
                results = await self._commit([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:
                for _, future in batch:
                    future.cancel()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
