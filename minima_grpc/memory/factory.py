"""Pick the memory backend named by the configuration."""

from __future__ import annotations

from minima_grpc.config import Config
from minima_grpc.memory.protocol import Memory, RecommendationStore


def open_memory(config: Config) -> tuple[Memory, RecommendationStore]:
    """The configured backend's memory and recommendation store (blocking; start-up).

    Raises minima_grpc.memory.embedded.MemoryOpenError when the embedded store
    cannot be opened (the message names the file and the cause).
    """
    if config.memory == "embedded":
        from minima_grpc.memory.embedded import open_embedded

        return open_embedded(config.data_dir)
    # Imported here: mubit-sdk is only loaded when the Mubit backend is chosen.
    from minima_grpc.memory.mubit import open_mubit_memory

    return open_mubit_memory(config)
