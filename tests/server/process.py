"""Running a server process for a test and reading its JSON log lines."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """A child process whose stderr is drained continuously (so it never blocks)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader = asyncio.create_task(self._drain())

    @classmethod
    async def start(cls, args: Sequence[str], env: dict[str, str]) -> ServerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            cwd=REPO,
            env={**os.environ, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _drain(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            async with self._new_line:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._new_line.notify_all()
        async with self._new_line:
            self._new_line.notify_all()

    def log_entries(self) -> list[dict[str, Any]]:
        entries = []
        for line in self.lines:
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    async def wait_for_log(self, message: str, within_s: float = 60) -> dict[str, Any]:
        """The first JSON log entry with this message; fails if the process exits first."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.log_entries() if e.get("message") == message), None)

        async with asyncio.timeout(within_s), self._new_line:
            while (entry := found()) is None:
                if self._reader.done():
                    raise AssertionError(f"process exited; stderr:\n{self.output}")
                await self._new_line.wait()
        return entry

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def wait(self, within_s: float = 30) -> int:
        async with asyncio.timeout(within_s):
            code = await self.process.wait()
            await self._reader
        return code

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self._reader
