"""Run the blocking Mubit SDK without stalling the event loop.

One `mubit.Client` per caller key (the key is the data boundary), kept in a
bounded LRU keyed by the key's fingerprint. Every call runs on a dedicated,
bounded thread pool under an asyncio deadline; a call still queued when its
deadline passes is dropped before it starts, one already running finishes
(or fails) on its own SDK timeout, which is the same budget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import mubit

from minima_grpc.engine.errors import MinimaError, Unauthenticated
from minima_grpc.engine.types import Scope
from minima_grpc.memory.mubit.errors import translate
from minima_grpc.memory.mubit.keys import fingerprint
from minima_grpc.memory.mubit.lru import Lru
from minima_grpc.memory.mubit.settings import MubitSettings

_log = logging.getLogger(__name__)

T = TypeVar("T")


def build_client(settings: MubitSettings, api_key: str, timeout_s: float) -> Any:
    """A `mubit.Client` whose behaviour does not drift with `MUBIT_*` env vars.

    Everything the SDK would otherwise read from the environment and that
    changes semantics is pinned: the key (never a server-wide fallback), the
    endpoint, the transport, `on_error="raise"` (so an outage is an error,
    not an empty answer) and `disabled=False`.
    """
    return mubit.Client(
        endpoint=settings.endpoint,
        http_endpoint=settings.endpoint,
        api_key=api_key,
        transport=settings.transport,
        timeout=timeout_s,
        connect_timeout=settings.connect_timeout_ms / 1000.0,
        max_retries=settings.max_retries,
        on_error="raise",
        disabled=False,
    )


@dataclass(frozen=True, slots=True)
class _KeyClients:
    """The two SDK clients of one key, differing only in their request timeout."""

    inline: Any
    standard: Any

    def close(self) -> None:
        self.inline.close()
        self.standard.close()


class MubitConnector:
    """Per-key SDK clients, a bounded worker pool and a deadline on every call."""

    def __init__(self, settings: MubitSettings) -> None:
        self.settings = settings
        # Keyed by fingerprint: the raw key lives only inside its clients.
        self._clients: Lru[str, _KeyClients] = Lru(settings.max_clients, on_evict=_KeyClients.close)
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_workers, thread_name_prefix="mubit-sdk"
        )
        self._closed = False

    def _clients_for(self, api_key: str) -> _KeyClients:
        def create() -> _KeyClients:
            return _KeyClients(
                inline=build_client(self.settings, api_key, self.settings.inline_timeout_s),
                standard=build_client(self.settings, api_key, self.settings.timeout_s),
            )

        return self._clients.get_or_create(fingerprint(api_key), create)

    def cached_keys(self) -> int:
        """How many keys have warm clients (for tests and metrics)."""
        return len(self._clients)

    async def call(
        self,
        scope: Scope,
        operation: str,
        fn: Callable[[Any], T],
        *,
        inline: bool = False,
        timeout_s: float | None = None,
    ) -> T:
        """Run `fn(client)` for the scope's key on the pool, within the deadline.

        `inline=True` marks a call on a recommendation's critical path (recall,
        the pending-record read and write, the key check): its SDK client and
        its deadline use `inline_timeout_ms` instead of `timeout_ms`.
        Raises `Unauthenticated` (no key, or Mubit rejected it), `TimeoutError`
        (deadline) or `MubitUnavailable` (anything else).
        """
        if self._closed:
            raise RuntimeError("the Mubit connector is closed")
        if not scope.api_key:
            raise Unauthenticated("a Mubit API key is required")
        clients = self._clients_for(scope.api_key)
        client = clients.inline if inline else clients.standard
        if timeout_s is None:
            timeout_s = self.settings.inline_timeout_s if inline else self.settings.timeout_s
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, client), timeout_s)
        except TimeoutError:
            raise TimeoutError(
                f"mubit {operation}: no answer within {round(timeout_s * 1000)} ms"
            ) from None
        except MinimaError:
            raise  # already a domain error (raised by `fn` while parsing)
        except Exception as exc:
            error = translate(operation, exc)
            _log.warning(
                "mubit %s failed: %s (key %s)", operation, error, fingerprint(scope.api_key)[:8]
            )
            raise error from exc

    async def timed_call(
        self, scope: Scope, operation: str, fn: Callable[[Any], T], *, timeout_s: float
    ) -> tuple[T, int]:
        """Like `call`, plus the round trip in ms measured on the worker thread
        (queueing excluded, so a busy pool does not inflate a health probe)."""

        def timed(client: Any) -> tuple[T, int]:
            started = time.perf_counter()
            result = fn(client)
            return result, round((time.perf_counter() - started) * 1000)

        return await self.call(scope, operation, timed, inline=True, timeout_s=timeout_s)

    async def close(self) -> None:
        self._closed = True
        for clients in self._clients.drain():
            clients.close()
        # Running SDK calls end on their own timeout; do not wait for them.
        self._pool.shutdown(wait=False, cancel_futures=True)
