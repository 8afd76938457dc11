"""One lane of a tenant: its vector index and document frequencies, and when to save them."""

from __future__ import annotations

from pathlib import Path

from minima_grpc.memory.embedded.embedder import DocFrequencies
from minima_grpc.memory.embedded.vectors import LaneIndex

# A lane's document frequencies are snapshotted every this many new texts (in
# the same transaction), so a restart re-reads at most this many texts.
VOCAB_SAVE_EVERY = 10_000
# The HNSW graph is saved after it grew by this much (and by at least a
# quarter, up to GRAPH_SAVE_MAX): a restart re-inserts at most that many rows.
GRAPH_SAVE_MIN = 16_384
GRAPH_SAVE_MAX = 100_000


class Lane:
    """Also the indexer's job for this lane (`step`)."""

    def __init__(
        self,
        lane_id: int,
        name: str,
        file_id: str,
        graph_path: Path,
        index_threads: int,
        vocab: DocFrequencies | None = None,
    ) -> None:
        self.lane_id = lane_id
        self.name = name
        self.graph_path = graph_path
        self.index = LaneIndex(tag=f"{file_id}:{lane_id}")
        self.vocab = vocab or DocFrequencies()
        self.texts_since_vocab_save = 0
        self.graph_saved_rows = 0
        self._index_threads = index_threads

    def step(self) -> bool:
        """Indexer job: grow the graph, then save it when enough is new."""
        if self.index.advance(self._index_threads):
            return True
        self.save_graph(force=False)
        return False

    def save_graph(self, *, force: bool) -> None:
        rows = self.index.graph_rows
        due = min(GRAPH_SAVE_MAX, max(GRAPH_SAVE_MIN, self.graph_saved_rows // 4))
        if rows > self.graph_saved_rows and (force or rows - self.graph_saved_rows >= due):
            self.graph_saved_rows = self.index.save_graph(self.graph_path)
