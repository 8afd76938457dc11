"""Acknowledged writes survive SIGKILL of the writing process and a restart."""

from __future__ import annotations

import sys
from pathlib import Path

from minima_grpc.memory.embedded import open_embedded
from minima_grpc.memory.protocol import RecallQuery
from tests.memory.kill9 import run_and_kill
from tests.memory.writer_process import SCOPE, record_for

REPO = Path(__file__).resolve().parents[2]


async def test_every_acknowledged_outcome_survives_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acked = run_and_kill(
        [sys.executable, "-m", "tests.memory.writer_process", str(data_dir), "8"],
        acks=300,
        cwd=REPO,
    )
    assert len(acked) >= 300
    keys = [key for key, _ in acked]
    entry_ids = {key: entry_id for key, entry_id in acked}

    memory, _ = open_embedded(data_dir)
    try:
        # A replay of every acknowledged record adds nothing: each one is stored.
        assert await memory.remember_many(SCOPE, [record_for(k) for k in keys]) == 0
        # ...under the id that was acknowledged, and recallable.
        for key in keys[:: max(1, len(keys) // 20)]:
            hits = await memory.recall(SCOPE, RecallQuery(text=record_for(key).task_text, k=1))
            assert hits[0].entry_id == entry_ids[key]
            assert hits[0].record.idempotency_key == key
    finally:
        await memory.close()
