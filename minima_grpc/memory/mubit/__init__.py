"""The Mubit memory backend (`MINIMA_MEMORY=mubit`): memory and recommendation
store on mubit-sdk, with the caller's key passed through on every call.

Modules: `connector` (per-key SDK clients, worker pool, deadlines), `errors`
(SDK failures -> domain errors), `codec` (wire JSON <-> domain
records), `memory` (the `Memory` protocol), `recstore` (the
`RecommendationStore` every replica shares), `keys` (tenant and fingerprint
of a key), `settings`.

A feedback whose outcome write fails is answered `accepted: false` with
`memory_write_failed`, its claim released, and nothing queued locally: a
durable outbox would have to store the caller's Mubit key on disk to replay
the write later, and keys are never stored. The write is idempotent (upsert
on a key derived from the feedback's idempotency key), so the caller's retry
applies it exactly once.
"""

from __future__ import annotations

from minima_grpc.config import Config
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.memory import MubitMemory
from minima_grpc.memory.mubit.recstore import MubitRecommendationStore
from minima_grpc.memory.mubit.settings import MubitSettings

__all__ = [
    "MubitConnector",
    "MubitMemory",
    "MubitRecommendationStore",
    "MubitSettings",
    "open_mubit_memory",
]


def open_mubit_memory(config: Config) -> tuple[MubitMemory, MubitRecommendationStore]:
    """Memory and store sharing one connector (one client per key, one worker
    pool); closing the memory closes both."""
    connector = MubitConnector(MubitSettings.from_config(config))
    return MubitMemory(connector), MubitRecommendationStore(connector)
