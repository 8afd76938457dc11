"""The memory protocol: the only thing the engine knows about storage.

Two implementations: `embedded` (SQLite + local embedder, the default) and
`mubit` (mubit-sdk). Every call takes the caller's Scope; a backend must make
data of one tenant unreachable from another by construction, and isolate
namespaces (lanes) within a tenant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, TypeVar, overload

import numpy as np
import numpy.typing as npt

from minima_grpc.engine.types import Difficulty, Outcome, Scope, Strategy, TaskType

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_Id_co = TypeVar("_Id_co", covariant=True)


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """One task -> model -> outcome observation, as written by feedback or seeding."""

    task_text: str
    task_type: TaskType
    difficulty: Difficulty
    model_id: str
    outcome: Outcome
    quality: float
    recorded_at: datetime
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: int | None = None
    verified_in_production: bool = False
    source: str = "feedback"  # "feedback" | "seed:<dataset>"
    recommendation_id: str | None = None
    tags: tuple[str, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class RecallQuery:
    """Find past outcomes similar to `text`.

    `per_model_k` > 0 asks for up to that many neighbours for *each* of `models`
    (so a popular model cannot crowd the others out); otherwise `k` overall.
    """

    text: str
    k: int = 32
    models: tuple[str, ...] = ()
    per_model_k: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecalledOutcome:
    """One neighbour as a backend that parses entry by entry builds it, before
    `Neighbours.from_outcomes` turns its rows into recall's answer."""

    entry_id: str
    reference_id: str | None
    similarity: float
    knowledge_confidence: float
    is_stale: bool
    record: OutcomeRecord


class IdColumn(Sequence[_Id_co]):
    """Ids of recalled rows (entry or reference ids), equal to the tuple of
    them. A backend may format them lazily: a recall holds thousands, the
    engine reads a few hundred, all at once through `take` (one call, not one
    per id)."""

    __slots__ = ()

    def take(self, rows: Iterable[int], /) -> list[_Id_co]:
        """The ids of `rows`, in that order."""
        return [self[i] for i in rows]


class IdTuple(tuple[_Id_co, ...], IdColumn[_Id_co]):
    """An `IdColumn` of ids a backend already holds."""

    __slots__ = ()


class IdArray(IdColumn[str]):
    """`ids[rows]`, where `ids` is a numpy object array of id strings a backend
    holds formatted: only the ids taken are read (a recall holds thousands of
    rows scattered over a large lane; the engine reads a few hundred)."""

    __slots__ = ("_ids", "_rows")

    def __init__(self, ids: npt.NDArray[np.object_], rows: IntArray) -> None:
        self._ids = ids
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> IdArray: ...

    def __getitem__(self, index: int | slice) -> str | IdArray:
        if isinstance(index, slice):
            return IdArray(self._ids, self._rows[index])
        found: str = self._ids[self._rows[index]]
        return found

    def take(self, rows: Iterable[int], /) -> list[str]:
        taken: list[str] = self._ids[self._rows[np.fromiter(rows, np.intp)]].tolist()
        return taken

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdArray | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


@dataclass(frozen=True, slots=True, eq=False)
class Neighbours:
    """Recall's answer as columns, in the backend's rank order (most similar
    first); row i is one distinct past outcome. Only what the engine weighs
    neighbours by: hundreds of rows per recall stay numpy arrays, never objects.
    """

    model_ids: tuple[str, ...]  # the model ids `model` indexes into
    model: IntArray
    entry_ids: IdColumn[str]
    reference_ids: IdColumn[str | None]
    similarity: FloatArray
    knowledge_confidence: FloatArray
    recorded_at: FloatArray  # POSIX seconds
    is_stale: BoolArray
    seeded: BoolArray  # the record's source is a dataset ("seed:...")
    quality: FloatArray
    cost_usd: FloatArray  # NaN when unknown
    output_tokens: FloatArray  # NaN when unknown

    def __post_init__(self) -> None:
        rows = len(self.entry_ids)
        columns = (
            self.model,
            self.reference_ids,
            self.similarity,
            self.knowledge_confidence,
            self.recorded_at,
            self.is_stale,
            self.seeded,
            self.quality,
            self.cost_usd,
            self.output_tokens,
        )
        if any(len(column) != rows for column in columns):
            raise ValueError("every column of Neighbours needs one value per row")

    def __len__(self) -> int:
        return len(self.entry_ids)

    def models_by_row(self) -> tuple[str, ...]:
        """The model id of each row."""
        return tuple(self.model_ids[i] for i in self.model.tolist())

    @classmethod
    def empty(cls) -> Neighbours:
        return cls.from_outcomes(())

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[RecalledOutcome]) -> Neighbours:
        """Columns of the outcomes in order; an entry listed twice counts once (the first)."""
        rows: dict[str, RecalledOutcome] = {}
        for o in outcomes:
            rows.setdefault(o.entry_id, o)
        kept = list(rows.values())
        records = [o.record for o in kept]
        codes: dict[str, int] = {}
        model = [codes.setdefault(r.model_id, len(codes)) for r in records]

        def floats(values: Iterable[float | None]) -> FloatArray:
            return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            model_ids=tuple(codes),
            model=np.array(model, dtype=np.intp),
            entry_ids=IdTuple(rows),
            reference_ids=IdTuple(o.reference_id for o in kept),
            similarity=floats(o.similarity for o in kept),
            knowledge_confidence=floats(o.knowledge_confidence for o in kept),
            recorded_at=floats(r.recorded_at.timestamp() for r in records),
            is_stale=np.array([o.is_stale for o in kept], dtype=np.bool_),
            seeded=np.array([r.source.startswith("seed") for r in records], dtype=np.bool_),
            quality=floats(r.quality for r in records),
            cost_usd=floats(r.cost_usd for r in records),
            output_tokens=floats(r.output_tokens for r in records),
        )


@dataclass(frozen=True, slots=True)
class Lesson:
    """A durable routing lesson promoted from verified outcomes."""

    content: str
    lesson_type: str  # "success" | "failure"
    task_type: TaskType
    difficulty: Difficulty
    model_id: str
    confidence: float
    idempotency_key: str
    source_entry_ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Reinforcement:
    """Credit (signal in [-1, 1]) given to recalled entries after an outcome."""

    entry_ids: tuple[str, ...]
    signal: float
    idempotency_key: str
    reference_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReinforcementResult:
    reinforced_entry_ids: tuple[str, ...]
    updated_confidence: float | None


@dataclass(frozen=True, slots=True)
class MemoryProbe:
    reachable: bool
    latency_ms: int | None


class Memory(Protocol):
    """What the engine needs from a memory backend.

    Recall answers with columns (`Neighbours`): a backend that reads rows in
    bulk fills them directly; one that parses entry by entry builds
    `RecalledOutcome`s and hands them to `Neighbours.from_outcomes`.

    Errors: raise `minima_grpc.engine.errors.Unauthenticated` when the backend
    rejects the caller's key, and any other exception for an unreachable or
    broken backend (the engine degrades: recall -> prior-only with a warning,
    writes -> accepted=false with a warning).
    """

    async def remember(self, scope: Scope, record: OutcomeRecord) -> str:
        """Store an outcome; return its entry id. Idempotent on record.idempotency_key."""
        ...

    async def remember_many(self, scope: Scope, records: Sequence[OutcomeRecord]) -> int:
        """Bulk insert (seeding); return how many were new. Idempotent per record."""
        ...

    async def recall(self, scope: Scope, query: RecallQuery) -> Neighbours:
        """Neighbours of query.text within the scope's tenant, lane and (if set) user,
        most similar first, each entry once (`Neighbours.empty()` when none)."""
        ...

    async def reinforce(self, scope: Scope, reinforcement: Reinforcement) -> ReinforcementResult:
        """Credit entries; a repeated idempotency_key applies nothing twice."""
        ...

    async def record_lesson(self, scope: Scope, lesson: Lesson) -> str:
        """Store a lesson; return its id. Idempotent on lesson.idempotency_key."""
        ...

    async def reflect(self, scope: Scope) -> None:
        """Consolidate lessons of the scope's lane into strategies."""
        ...

    async def strategies(
        self, scope: Scope, lesson_types: Sequence[str], limit: int
    ) -> list[Strategy]:
        """Promoted strategies for the scope's lane, strongest first."""
        ...

    async def probe(self, scope: Scope) -> MemoryProbe:
        """Reachability and round-trip latency, with the caller's credentials."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...


class NeighbourLabels(NamedTuple):
    """The neighbours that informed one model's prediction, with their recorded
    quality: feedback credits only those whose label agrees with the outcome."""

    entry_ids: tuple[str, ...]
    quality: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PendingRecommendation:
    """What feedback needs to find the recommendation it answers."""

    recommendation_id: str
    task_text: str
    task_type: TaskType
    difficulty: Difficulty
    tags: tuple[str, ...]
    recommended_model_id: str
    # model id -> the neighbours that informed that model's prediction
    evidence: dict[str, NeighbourLabels]
    # model id -> estimated USD cost at recommend time
    est_costs: dict[str, float]
    created_at: datetime
    # The recommend call's namespace and user: feedback carries neither, yet its
    # outcome belongs to the lane (and user) the recommendation was made in.
    namespace: str | None = None
    user_id: str | None = None


class RecommendationStore(Protocol):
    """Joins a feedback to its recommendation; entries expire after a TTL.

    Lookups are scoped: a recommendation stored under one tenant is invisible
    to every other tenant.
    """

    async def put(self, scope: Scope, pending: PendingRecommendation) -> None:
        """Persist before the recommendation is returned to the caller."""
        ...

    async def get(self, scope: Scope, recommendation_id: str) -> PendingRecommendation | None:
        """The pending recommendation, or None if unknown, expired or another tenant's."""
        ...

    async def claim_feedback(self, scope: Scope, idempotency_key: str) -> bool:
        """Atomically mark a feedback key as applied; False if it already was."""
        ...

    async def release_feedback(self, scope: Scope, idempotency_key: str) -> None:
        """Undo a claim whose write failed, so a retry can apply it."""
        ...

    async def purge_expired(self) -> int:
        """Delete expired entries; return how many."""
        ...
