"""The Mubit memory backend: the `Memory` protocol on mubit-sdk.

Layout in Mubit: the scope's lane `minima:<namespace>` is the Mubit run, so
namespaces never see each other; outcome entries carry the caller's
`user_id` so Mubit partitions them per user inside the run. The lane is used
as the run id only, not also as the item `lane` tag: a tagged item is hidden
from queries that do not filter on that lane, and bulk-inserted seeds
(`batch_insert`) cannot carry the tag, so tagging would make seeds
unrecallable.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import mubit

from minima_grpc.engine.types import Outcome, Scope, Strategy
from minima_grpc.memory.mubit.codec import (
    LESSON_KIND,
    decode_json_object,
    evidence_list,
    ingest_record_id,
    outcome_metadata,
    recalled_from_evidence,
    strategy_from_wire,
)
from minima_grpc.memory.mubit.connector import MubitConnector
from minima_grpc.memory.mubit.errors import MubitUnavailable, bad_response
from minima_grpc.memory.protocol import (
    Lesson,
    MemoryProbe,
    Neighbours,
    OutcomeRecord,
    RecalledOutcome,
    RecallQuery,
    Reinforcement,
    ReinforcementResult,
)

AGENT_ID = "minima"
# Seeds are inserted as facts, feedback outcomes as observations.
RECALL_ENTRY_TYPES = ["fact", "observation"]
BATCH_SIZE = 256
# Per-model recall over-fetches this many times the evidence it needs.
OVERFETCH = 2
PROBE_TIMEOUT_S = 3.0
# Mubit's env_tags must be TYPE:NAME[:VERSION]; other tags stay in metadata only.
_ENV_TAG = re.compile(r"^[^:\s]+:[^\s]+$")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _record_digest(record: OutcomeRecord) -> str:
    """Identity of an outcome: its idempotency key, else its content."""
    if record.idempotency_key:
        return _digest("idem", record.idempotency_key)
    return _digest(
        "content",
        record.model_id,
        record.task_text,
        record.outcome.value,
        record.recorded_at.isoformat(),
    )


def _env_tags(tags: Sequence[str]) -> list[str] | None:
    kept = [t for t in tags if _ENV_TAG.fullmatch(t)]
    return kept or None


def _checked_job(operation: str, job: object) -> str:
    """The record id of a finished ingest job, or the reason it is unusable."""
    if not isinstance(job, dict):
        raise bad_response(operation, "ingest answer is not an object")
    if job.get("error"):
        raise MubitUnavailable(operation, "rejected_payload", "ingest job failed")
    record_id = ingest_record_id(job)
    if record_id is None:
        raise bad_response(operation, "ingest job has no record id")
    return record_id


def _signal_outcome(signal: float) -> str:
    if signal > 0:
        return Outcome.SUCCESS.value
    if signal < 0:
        return Outcome.FAILURE.value
    return "neutral"


Selection = tuple[list[RecalledOutcome], bool]


def per_model(models: Sequence[str], quota: int) -> Callable[[list[RecalledOutcome]], Selection]:
    """Keep up to `quota` best rows for each of `models`; complete when all got theirs."""

    def select(rows: list[RecalledOutcome]) -> Selection:
        counts = dict.fromkeys(models, 0)
        kept: list[RecalledOutcome] = []
        for row in rows:
            model = row.record.model_id
            if model in counts and counts[model] < quota:
                counts[model] += 1
                kept.append(row)
        return kept, all(n >= quota for n in counts.values())

    return select


def best_k(models: Sequence[str], k: int) -> Callable[[list[RecalledOutcome]], Selection]:
    """Keep the `k` best rows (of `models` only, when given); complete when there are k."""
    wanted = set(models)

    def select(rows: list[RecalledOutcome]) -> Selection:
        kept = [r for r in rows if not wanted or r.record.model_id in wanted][:k]
        return kept, len(kept) >= k

    return select


class MubitMemory:
    """`Memory` backed by Mubit, one SDK client per caller key."""

    def __init__(self, connector: MubitConnector) -> None:
        self._mubit = connector

    @property
    def _budget_ms(self) -> int:
        return self._mubit.settings.timeout_ms

    async def remember(self, scope: Scope, record: OutcomeRecord) -> str:
        digest = _record_digest(record)
        verified_success = record.verified_in_production and record.outcome is Outcome.SUCCESS

        def write(client: Any) -> Any:
            return client.remember(
                content=record.task_text,
                session_id=scope.lane,
                agent_id=AGENT_ID,
                item_id=f"oc-{digest}",
                metadata=outcome_metadata(record),
                intent="observation",
                user_id=scope.user_id,
                # Same key -> Mubit updates the entry in place: a replay never duplicates.
                upsert_key=f"minima:oc:{digest}",
                importance="high" if verified_success else "medium",
                source="human" if record.source == "feedback" else "system",
                idempotency_key=f"oc:{digest}",
                wait=True,
                timeout_ms=self._budget_ms,
                occurrence_time=int(record.recorded_at.timestamp()),
                env_tags=_env_tags(record.tags),
                # Pin the write scope: MUBIT_PROJECT / MUBIT_ENV must not leak in.
                project="",
                env="",
            )

        return _checked_job("remember", await self._mubit.call(scope, "remember", write))

    async def remember_many(self, scope: Scope, records: Sequence[OutcomeRecord]) -> int:
        created = 0
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start : start + BATCH_SIZE]
            payload = {
                "run_id": scope.lane,
                # Dedupe on item_id makes a replayed seed a no-op.
                "deduplicate": True,
                "items": [
                    {
                        "item_id": f"oc-{_record_digest(r)}",
                        "text": r.task_text,
                        "metadata_json": json.dumps(outcome_metadata(r)),
                        "source": "system",
                        "embedding": [],
                        "env_tags": _env_tags(r.tags) or [],
                    }
                    for r in chunk
                ],
            }

            def insert(client: Any, body: dict[str, Any] = payload) -> Any:
                # `client.advanced.batch_insert` is deprecated; same wire.
                return client.raw.invoke("control.batch_insert", body)

            answer = await self._mubit.call(scope, "batch_insert", insert)
            if not isinstance(answer, dict):
                raise bad_response("batch_insert", "answer is not an object")
            count = answer.get("count", 0)
            try:
                created += int(count)
            except (TypeError, ValueError):
                raise bad_response("batch_insert", "count is not a number") from None
        return created

    async def _recall_rows(
        self, scope: Scope, query: RecallQuery, limit: int
    ) -> tuple[list[RecalledOutcome], bool]:
        """Parsed outcome rows, and whether Mubit had more than `limit` to give."""

        def ask(client: Any) -> tuple[list[RecalledOutcome], bool]:
            answer = client.recall(
                query=query.text,
                session_id=scope.lane,
                mode="agent_routed",
                direct_lane="semantic_search",
                limit=limit,
                entry_types=RECALL_ENTRY_TYPES,
                include_working_memory=False,
                user_id=scope.user_id,
                # The engine applies its own age weighting: rank on similarity.
                rank_by="relevance",
                evidence_only=True,
                env_tags=_env_tags(query.tags),
            )
            evidence = evidence_list(answer)
            if evidence is None:
                raise bad_response("recall", "answer has no evidence list")
            # Parsed here, on the worker: hundreds of rows would stall the event loop.
            rows = [row for row in map(recalled_from_evidence, evidence) if row is not None]
            rows.sort(key=lambda r: r.similarity, reverse=True)
            return rows, len(evidence) >= limit

        return await self._mubit.call(scope, "recall", ask, inline=True)

    async def recall(self, scope: Scope, query: RecallQuery) -> Neighbours:
        """Neighbours of the query; per model when `per_model_k` is set.

        Mubit's query has no metadata predicate, so neither "k per model" nor
        "k of these models" can be one filtered query per model. Instead: one
        query over-fetching what the selection needs, best first; if the
        selection came up short and Mubit returned a full page (there may be
        more), widen once to the cap. A popular model thus cannot crowd the
        others out within the cap, in at most two round trips whatever the
        number of candidates.
        """
        if not query.text.strip():
            return Neighbours.empty()
        if query.per_model_k > 0 and query.models:
            select = per_model(query.models, query.per_model_k)
            first = query.per_model_k * len(query.models) * OVERFETCH
        else:
            select = best_k(query.models, query.k)
            first = query.k * (OVERFETCH if query.models else 1)
        cap = self._mubit.settings.recall_limit_cap
        limit = max(1, min(cap, first))
        rows, saturated = await self._recall_rows(scope, query, limit)
        kept, complete = select(rows)
        if not complete and saturated and limit < cap:
            rows, _ = await self._recall_rows(scope, query, cap)
            kept, _ = select(rows)
        return Neighbours.from_outcomes(kept)

    async def reinforce(self, scope: Scope, reinforcement: Reinforcement) -> ReinforcementResult:
        if not reinforcement.entry_ids:
            return ReinforcementResult(reinforced_entry_ids=(), updated_confidence=None)
        signal = min(1.0, max(-1.0, reinforcement.signal))
        reference = reinforcement.reference_id or reinforcement.entry_ids[0]

        def credit(client: Any) -> Any:
            try:
                return client.record_outcome(
                    reference_id=reference,
                    outcome=_signal_outcome(signal),
                    session_id=scope.lane,
                    signal=signal,
                    rationale="minima feedback",
                    agent_id=AGENT_ID,
                    user_id=scope.user_id,
                    entry_ids=list(reinforcement.entry_ids),
                    # With a key the SDK may retry, and Mubit applies it at most once.
                    idempotency_key=f"rf:{reinforcement.idempotency_key}",
                )
            except mubit.NotFoundError:
                return None  # the reference is not in the caller's Mubit: nothing to credit

        answer = await self._mubit.call(scope, "record_outcome", credit)
        if answer is None:
            return ReinforcementResult(reinforced_entry_ids=(), updated_confidence=None)
        if not isinstance(answer, dict):
            raise bad_response("record_outcome", "answer is not an object")
        # gRPC omits false booleans, so only an explicit true means "applied".
        if answer.get("success") is not True:
            raise MubitUnavailable("record_outcome", "rejected_payload", "not applied")
        credited = answer.get("credited_unit_ids")
        confidence = answer.get("updated_confidence")
        # Only the neighbours asked for (Mubit may list the reference too);
        # absent (older servers; gRPC omits empty lists) means all of them.
        credited_ids = {str(c) for c in credited} if isinstance(credited, list) else None
        return ReinforcementResult(
            reinforced_entry_ids=tuple(
                i for i in reinforcement.entry_ids if credited_ids is None or i in credited_ids
            ),
            updated_confidence=(
                float(confidence)
                if isinstance(confidence, int | float) and not isinstance(confidence, bool)
                else None
            ),
        )

    async def record_lesson(self, scope: Scope, lesson: Lesson) -> str:
        digest = _digest("lesson", lesson.idempotency_key)
        cluster = f"{lesson.task_type.value}:{lesson.difficulty.value}"
        metadata = {
            "kind": LESSON_KIND,
            "lesson_type": lesson.lesson_type,
            "task_type": lesson.task_type.value,
            "difficulty": lesson.difficulty.value,
            "task_cluster": cluster,
            "model_id": lesson.model_id,
            "confidence": lesson.confidence,
            "source_entry_ids": list(lesson.source_entry_ids),
        }

        def write(client: Any) -> Any:
            return client.remember(
                content=lesson.content,
                session_id=scope.lane,
                agent_id=AGENT_ID,
                item_id=f"lsn-{digest}",
                metadata=metadata,
                intent="lesson",
                lesson_type=lesson.lesson_type,
                lesson_scope="session",
                lesson_importance="high",
                importance="high",
                # One entry per lesson; reflection consolidates them into strategies.
                upsert_key=f"minima:lesson:{digest}",
                source="system",
                idempotency_key=f"lsn:{digest}",
                wait=True,
                timeout_ms=self._budget_ms,
                project="",
                env="",
            )

        return _checked_job("record_lesson", await self._mubit.call(scope, "record_lesson", write))

    async def reflect(self, scope: Scope) -> None:
        def run(client: Any) -> Any:
            return client.reflect(session_id=scope.lane, include_linked_runs=False)

        answer = await self._mubit.call(scope, "reflect", run)
        if not isinstance(answer, dict):
            raise bad_response("reflect", "answer is not an object")

    async def strategies(
        self, scope: Scope, lesson_types: Sequence[str], limit: int
    ) -> list[Strategy]:
        def ask(client: Any) -> Any:
            return client.surface_strategies(
                session_id=scope.lane,
                lesson_types=list(lesson_types) or None,
                max_strategies=limit,
            )

        answer = await self._mubit.call(scope, "surface_strategies", ask)
        if not isinstance(answer, dict) or not isinstance(answer.get("strategies", []), list):
            raise bad_response("surface_strategies", "answer has no strategies list")
        parsed = (strategy_from_wire(raw) for raw in answer.get("strategies", []))
        return [s for s in parsed if s is not None][:limit]

    async def probe(self, scope: Scope) -> MemoryProbe:
        """`GET /v2/core/health` with the caller's key; never raises."""

        def check(client: Any) -> Any:
            return client.health()

        timeout = min(self._mubit.settings.timeout_s, PROBE_TIMEOUT_S)
        try:
            answer, latency_ms = await self._mubit.timed_call(
                scope, "health", check, timeout_s=timeout
            )
        except Exception:
            return MemoryProbe(reachable=False, latency_ms=None)
        if decode_json_object(answer) is None:
            return MemoryProbe(reachable=False, latency_ms=None)
        return MemoryProbe(reachable=True, latency_ms=latency_ms)

    async def close(self) -> None:
        await self._mubit.close()
