"""A broken data file is a clear start-up error naming the file, never silent loss."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from minima_grpc.engine.types import Scope
from minima_grpc.memory.embedded import EmbeddedSettings, MemoryOpenError, open_embedded
from minima_grpc.memory.embedded.registry import tenant_digest
from minima_grpc.memory.protocol import RecallQuery
from tests.memory.conftest import outcome

SCOPE = Scope(tenant="tenant-a")
REPO = Path(__file__).resolve().parents[2]
FAST = EmbeddedSettings(busy_timeout_s=0.2)


async def _tenant_file(data_dir: Path) -> Path:
    """Create a tenant file with one outcome; return its path."""
    memory, _ = open_embedded(data_dir, FAST)
    await memory.remember(SCOPE, outcome("summarise the incident report", key="k"))
    await memory.close()
    return data_dir / "tenants" / tenant_digest(SCOPE.tenant) / "memory.sqlite3"


async def test_corrupt_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = await _tenant_file(tmp_path)
    with path.open("r+b") as handle:
        handle.write(b"this is not a database header at all!!")

    with pytest.raises(MemoryOpenError) as raised:
        open_embedded(tmp_path, FAST)

    assert str(path) in str(raised.value)
    assert "not a SQLite database" in str(raised.value)


async def test_truncated_file_is_reported(tmp_path: Path) -> None:
    path = await _tenant_file(tmp_path)
    with path.open("r+b") as handle:
        handle.truncate(1500)

    with pytest.raises(MemoryOpenError, match=str(path)):
        open_embedded(tmp_path, FAST)


async def test_a_foreign_sqlite_file_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "tenants" / tenant_digest(SCOPE.tenant) / "memory.sqlite3"
    path.parent.mkdir(parents=True)
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    other.commit()
    other.close()

    with pytest.raises(MemoryOpenError, match="not a Minima memory file"):
        open_embedded(tmp_path, FAST)
    # ...and left as it was.
    check = sqlite3.connect(path)
    tables = check.execute("SELECT name FROM sqlite_schema").fetchall()
    check.close()
    assert tables == [("invoices",)]


async def test_a_file_of_another_tenant_is_refused(tmp_path: Path) -> None:
    path = await _tenant_file(tmp_path)
    moved = tmp_path / "tenants" / tenant_digest("tenant-b") / "memory.sqlite3"
    moved.parent.mkdir(parents=True)
    path.rename(moved)

    with pytest.raises(MemoryOpenError, match="tenant"):
        open_embedded(tmp_path, FAST)


async def test_locked_file_is_reported(tmp_path: Path) -> None:
    path = await _tenant_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(MemoryOpenError) as raised:
            open_embedded(tmp_path, FAST)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert str(path) in str(raised.value)
    assert "locked by another process" in str(raised.value)
    # Once the lock is gone the data is all there.
    memory, _ = open_embedded(tmp_path, FAST)
    try:
        assert len(await memory.recall(SCOPE, RecallQuery(text="incident report"))) == 1
    finally:
        await memory.close()


_OPEN_AS_NOBODY = """
import os, sys
from pathlib import Path
# Import first: the interpreter's own files may not be readable by nobody.
from minima_grpc.memory.embedded import MemoryOpenError, open_embedded
os.setgid(65534)
os.setuid(65534)
try:
    open_embedded(Path(sys.argv[1]))
except MemoryOpenError as exc:
    print(exc)
"""


async def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    path = await _tenant_file(tmp_path)
    path.chmod(0o000)
    try:
        if os.geteuid() != 0:
            with pytest.raises(MemoryOpenError) as raised:
                open_embedded(tmp_path, FAST)
            message = str(raised.value)
        else:
            # root reads anything: open it as an unprivileged user instead.
            for directory in (tmp_path, *tmp_path.parents):
                directory.chmod(directory.stat().st_mode | 0o005)
            (tmp_path / "tenants").chmod(0o777)
            (tmp_path / "tenants" / ".lock").chmod(0o666)
            path.parent.chmod(0o777)
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", _OPEN_AS_NOBODY, str(tmp_path)],
                capture_output=True,
                text=True,
                cwd=REPO,
                timeout=60,
                check=False,
            )
            message = done.stdout.strip() or done.stderr
    finally:
        path.chmod(0o644)

    assert f"cannot open memory file {path}" in message
    assert "permission denied" in message
