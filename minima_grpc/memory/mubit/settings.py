"""How the Mubit backend connects and how long it waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from minima_grpc.config import Config

_TRANSPORTS = ("http", "grpc", "auto")


@dataclass(frozen=True, slots=True)
class MubitSettings:
    """Connection and budget settings of the Mubit backend.

    `timeout_ms` bounds one SDK request and, as an asyncio deadline, a whole
    adapter call (SDK retries and ingest-job polling included), so a slow
    Mubit can never hold a caller longer than that. Calls on a
    recommendation's critical path (recall, the pending-record read and
    write, the key check) use the shorter `inline_timeout_ms` for both, so a
    stalled Mubit never fails a recommendation and a worker stuck on it is
    freed when the caller stops waiting, not tens of seconds later.
    `max_workers` bounds the threads the blocking SDK may occupy;
    `max_clients` bounds the per-key SDK clients kept warm.
    """

    endpoint: str
    transport: str = "http"
    timeout_ms: int = 5_000
    inline_timeout_ms: int = 2_500
    connect_timeout_ms: int = 1_000
    max_retries: int = 1
    max_workers: int = 16
    max_clients: int = 256
    # Ceiling of one recall's `limit` when widening for per-model evidence.
    recall_limit_cap: int = 200
    pending_ttl: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.endpoint.strip():
            problems.append("MUBIT_ENDPOINT must not be empty")
        if self.transport not in _TRANSPORTS:
            problems.append(f"MUBIT_TRANSPORT must be one of {', '.join(_TRANSPORTS)}")
        for name in (
            "timeout_ms",
            "inline_timeout_ms",
            "connect_timeout_ms",
            "max_workers",
            "max_clients",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be > 0")
        if self.max_retries < 0:
            problems.append("max_retries must be >= 0")
        if self.recall_limit_cap < 1:
            problems.append("recall_limit_cap must be >= 1")
        if problems:
            raise ValueError("invalid Mubit settings: " + "; ".join(problems))

    @property
    def timeout_s(self) -> float:
        return self.timeout_ms / 1000.0

    @property
    def inline_timeout_s(self) -> float:
        return self.inline_timeout_ms / 1000.0

    @classmethod
    def from_config(cls, config: Config) -> MubitSettings:
        return cls(
            endpoint=config.mubit_endpoint,
            transport=config.mubit_transport,
            timeout_ms=config.mubit_timeout_ms,
            inline_timeout_ms=config.recall_timeout_ms,
        )
