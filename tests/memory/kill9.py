"""Crash a writer with SIGKILL mid-stream and collect what it acknowledged.

Reusable for any writer process (the memory writer here, or a client feeding
a real server): the child prints one line `ACK <token...>` to stdout *after*
each write it considers durable. `run_and_kill` starts it, waits for
`acks` acknowledgements, sends SIGKILL to `kill_pid` (the child itself by
default, or e.g. a server it talks to), and returns every ACK line that
reached the pipe, including ones printed between the decision and the kill.
Whatever the caller then finds missing from the store was acknowledged and lost.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

ACK = "ACK"


class WriterFailedError(AssertionError):
    """The writer exited or stalled before enough acknowledgements."""


def run_and_kill(
    argv: Sequence[str],
    *,
    acks: int,
    timeout_s: float = 60.0,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    kill_pid: Callable[[subprocess.Popen[str]], int] | None = None,
) -> list[list[str]]:
    """The tokens of every ACK line the child printed before it died."""
    child = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=dict(env) if env is not None else None,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream: IO[str]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, args=(child.stdout,), daemon=True)
    reader.start()
    acked: list[list[str]] = []
    try:
        while len(acked) < acks:
            try:
                line = lines.get(timeout=timeout_s)
            except queue.Empty:
                raise WriterFailedError(f"no ACK for {timeout_s} s after {len(acked)}") from None
            if line is None:
                raise WriterFailedError(
                    f"writer exited after {len(acked)} ACKs: {child.stderr.read()[-2000:]}"
                )
            if line.startswith(ACK + " "):
                acked.append(line.split()[1:])
    finally:
        target = kill_pid(child) if kill_pid else child.pid
        os.kill(target, signal.SIGKILL)
        if target != child.pid:
            child.kill()
        child.wait(timeout=30)
        reader.join(timeout=30)
    # Lines already in the pipe when the kill landed were acknowledged too.
    while not lines.empty():
        line = lines.get_nowait()
        if line is not None and line.startswith(ACK + " "):
            acked.append(line.split()[1:])
    return acked
