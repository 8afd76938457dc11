"""A child process for the durability test: writes outcomes until killed.

    python -m tests.memory.writer_process DATA_DIR WRITERS

Runs WRITERS concurrent remember() loops against the embedded memory in
DATA_DIR and prints `ACK <idempotency key> <entry id>` after each returns.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded import open_embedded
from minima_grpc.memory.protocol import OutcomeRecord
from tests.memory.conftest import outcome

SCOPE = Scope(tenant="durable-tenant", namespace="crash")


def record_for(key: str) -> OutcomeRecord:
    return outcome(f"task {key}: summarise incident report number {key}", key=key)


async def main(data_dir: Path, writers: int) -> None:
    memory, _ = open_embedded(data_dir)
    counter = itertools.count()

    async def loop() -> None:
        while True:
            key = f"w-{next(counter)}"
            entry_id = await memory.remember(SCOPE, record_for(key))
            print(f"ACK {key} {entry_id}", flush=True)

    await asyncio.gather(*(loop() for _ in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
