"""One background thread that does deferred index work (HNSW inserts, graph saves).

Writers only append to a lane's exact tail and `submit` the lane; the thread
calls the job's `step()` repeatedly (round-robin over jobs) until it reports
no more work. Keeping this off the write path is what lets a write return as
soon as SQLite has committed it.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

_log = logging.getLogger(__name__)


class Job(Protocol):
    def step(self) -> bool:
        """Do one short unit of work; True while more remains."""
        ...


class Indexer:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: dict[int, Job] = {}
        self._stopping = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="minima-indexer", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        with self._cond:
            if not self._stopping:
                self._queue[id(job)] = job
                self._cond.notify()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (benchmarks, tests, close)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def stop(self) -> None:
        """Finish the step in progress, drop the rest, and end the thread."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                key, job = next(iter(self._queue.items()))
                del self._queue[key]
                self._busy = True
            try:
                more = job.step()
            except Exception:
                _log.exception("background index work failed; it will be retried on next write")
                more = False
            with self._cond:
                self._busy = False
                if more and not self._stopping:
                    self._queue[key] = job
                self._cond.notify_all()
