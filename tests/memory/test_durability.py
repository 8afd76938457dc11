"""Acknowledged writes survive SIGKILL of the writing process and a restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from minima_grpc.memory.embedded import open_embedded
from minima_grpc.memory.protocol import RecallQuery
from tests.memory.kill9 import run_and_kill
from tests.memory.recalled import recorded, written
from tests.memory.writer_process import SCOPE, record_for

REPO = Path(__file__).resolve().parents[2]


async def test_every_acknowledged_outcome_survives_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acked = await asyncio.to_thread(
        run_and_kill,
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
            assert tuple(hits.entry_ids) == (entry_ids[key],)
            row = recorded(hits, 0)  # the child stamped the record with its own clock
            assert row == written(record_for(key)) | {"recorded_at": row["recorded_at"]}
    finally:
        await memory.close()


_FILL_UNTIL_FULL = """
import asyncio, os, resource, signal, sys
from pathlib import Path
from minima_grpc.memory.protocol import RecallQuery
from tests.memory.writer_process import SCOPE, record_for
from minima_grpc.memory.embedded import open_embedded

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead


async def main(data_dir):
    memory, _ = open_embedded(data_dir)
    await memory.remember(SCOPE, record_for("w-warm"))
    largest = max(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    limit = largest + 256 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    i = 0
    acked = {}
    try:
        while True:
            key = f"w-{i}"
            acked[key] = await memory.remember(SCOPE, record_for(key))
            print("ACK", key, acked[key], flush=True)
            i += 1
    except Exception as exc:
        print("ERROR", type(exc).__name__, exc, flush=True)
    print("PROBE", (await memory.probe(SCOPE)).reachable, flush=True)
    hits = await memory.recall(SCOPE, RecallQuery(text=record_for("w-0").task_text, k=1))
    print("READ", "w-0" if hits.entry_ids[0] == acked["w-0"] else hits.entry_ids[0], flush=True)


asyncio.run(main(Path(sys.argv[1])))
"""


async def test_a_full_disk_fails_writes_loudly_and_keeps_what_was_acknowledged(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _FILL_UNTIL_FULL, str(data_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()
    acked = [line.split()[1] for line in lines if line.startswith("ACK ")]
    errors = [line for line in lines if line.startswith("ERROR ")]

    assert len(acked) > 10, done.stderr[-2000:]
    assert errors
    assert "MemoryUnavailableError" in errors[0]
    # A file-size limit surfaces as EFBIG (SQLite: I/O error); ENOSPC as "disk is full".
    assert "I/O error" in errors[0] or "disk is full" in errors[0]
    assert "PROBE False" in lines  # the health probe reports the store degraded
    assert "READ w-0" in lines  # reads still work

    memory, _ = open_embedded(data_dir)
    try:
        assert await memory.remember_many(SCOPE, [record_for(k) for k in acked]) == 0
    finally:
        await memory.close()
