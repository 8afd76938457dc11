"""One lane of a tenant: its vector index, recall's columns (labels) and document
frequencies, and when to save them."""

from __future__ import annotations

from pathlib import Path

from minima_grpc.memory.embedded.embedder import DocFrequencies
from minima_grpc.memory.embedded.labels import LaneLabels
from minima_grpc.memory.embedded.sweep import DotSweep
from minima_grpc.memory.embedded.vectors import LaneIndex

# A lane's document frequencies are snapshotted every this many new texts (in
# the same transaction), so a restart re-reads at most this many texts.
VOCAB_SAVE_EVERY = 10_000


class Lane:
    """Vectors, recall's columns (labels) and document frequencies of one lane;
    also the indexer's job for this lane (`step`)."""

    def __init__(
        self,
        lane_id: int,
        name: str,
        file_id: str,
        graph_dir: Path,
        index_threads: int,
        sweep: DotSweep,
    ) -> None:
        self.lane_id = lane_id
        self.name = name
        self.index = LaneIndex(
            tag=f"{file_id}:{lane_id}",
            graph_path=lambda model: graph_dir / f"lane-{lane_id}-model-{model}.usearch",
            sweep=sweep,
        )
        self.labels = LaneLabels(file_id)
        self.vocab = DocFrequencies()
        self.texts_since_vocab_save = 0
        self._index_threads = index_threads

    def step(self) -> bool:
        """Indexer job: grow the graphs, then save those that grew enough."""
        if self.index.advance(self._index_threads):
            return True
        self.index.save_graphs(force=False)
        return False
