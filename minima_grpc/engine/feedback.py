"""Feedback closes the learning loop.

1. validate; chosen_model_id must be a catalog model (it may differ from the pick)
2. find the pending recommendation (unknown -> accepted=false, nothing written)
3. claim the idempotency key in the recommendation store (a retry is a no-op)
4. write the outcome record (failure -> release the claim, accepted=false)
5. reinforce the chosen model's neighbours whose label agrees with the outcome
6. promote a lesson for a verified, high-quality production success
7. reflect on a cadence, or after a verified failure
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from minima_grpc.catalog import Catalog
from minima_grpc.engine.errors import Unauthenticated, UnknownModel
from minima_grpc.engine.feedback_flow import FeedbackFlow
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import (
    FeedbackRequest,
    FeedbackResponse,
    Outcome,
    Scope,
)
from minima_grpc.engine.validate import check_feedback
from minima_grpc.memory.protocol import (
    Lesson,
    Memory,
    OutcomeRecord,
    PendingRecommendation,
    RecommendationStore,
    Reinforcement,
    ReinforcementResult,
)

log = logging.getLogger(__name__)

DEFAULT_QUALITY = {Outcome.SUCCESS: 0.9, Outcome.PARTIAL: 0.5, Outcome.FAILURE: 0.1}


def feedback_key(request: FeedbackRequest) -> str:
    """The caller's key, else one derived from recommendation + model, so the
    same report for the same model dedupes while a different model is new."""
    if request.idempotency_key is not None:
        return request.idempotency_key
    digest = hashlib.sha256(f"{request.recommendation_id}:{request.chosen_model_id}".encode())
    return "fb:" + digest.hexdigest()[:32]


def lane_of(pending: PendingRecommendation, scope: Scope) -> Scope:
    """Feedback names no namespace: its outcome goes where the recommendation
    was made (same tenant and key), else where the caller is."""
    return replace(
        scope,
        namespace=pending.namespace if pending.namespace is not None else scope.namespace,
        user_id=pending.user_id if pending.user_id is not None else scope.user_id,
    )


def reflection_due(key: str, every: int) -> bool:
    """About one accepted outcome in `every` triggers reflection. Chosen by the
    key's hash rather than a counter: it needs no shared state, survives
    restarts, agrees across replicas, and a retry of the same key can never
    trigger it twice."""
    digest = hashlib.sha256(f"reflect:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % every == 0


def agreeing_entries(
    pending: PendingRecommendation, model_id: str, quality: float, band: float
) -> tuple[str, ...]:
    """Neighbours of `model_id` whose recorded quality agrees with this outcome."""
    kept = pending.evidence.get(model_id)
    if kept is None:
        return ()
    return tuple(
        entry
        for entry, label in zip(kept.entry_ids, kept.quality, strict=True)
        if abs(label - quality) <= band
    )


@dataclass(frozen=True, slots=True)
class _Written:
    record_id: str
    key: str
    quality: float


class FeedbackHandler:
    def __init__(
        self,
        catalog: Catalog,
        memory: Memory,
        store: RecommendationStore,
        settings: EngineSettings,
        clock: Callable[[], datetime],
        flow: FeedbackFlow,
    ) -> None:
        self._catalog = catalog
        self._memory = memory
        self._store = store
        self._settings = settings
        self._clock = clock
        self._flow = flow

    async def handle(self, scope: Scope, request: FeedbackRequest) -> FeedbackResponse:
        check_feedback(request)
        if request.chosen_model_id not in self._catalog:
            raise UnknownModel("chosen_model_id", request.chosen_model_id)
        pending = await self._store.get(scope, request.recommendation_id)
        if pending is None:
            return FeedbackResponse(accepted=False, warnings=("unknown_recommendation",))
        scope = lane_of(pending, scope)
        key = feedback_key(request)
        if not await self._store.claim_feedback(scope, key):
            return FeedbackResponse(accepted=True, warnings=("duplicate_feedback_ignored",))
        written = await self._write(scope, request, pending, key)
        if written is None:
            return FeedbackResponse(accepted=False, warnings=("memory_write_failed",))
        self._flow.reported(scope)

        warnings: list[str] = []
        reinforced = await self._reinforce(scope, request, pending, written)
        if reinforced is None:
            warnings.append("reinforcement_failed")
        promoted = await self._promote(scope, request, pending, written)
        if promoted is None:
            warnings.append("lesson_promotion_failed")
        reflected = await self._reflect(scope, request, written)
        return FeedbackResponse(
            accepted=True,
            record_id=written.record_id,
            reinforced_entry_ids=reinforced.reinforced_entry_ids if reinforced else (),
            updated_confidence=reinforced.updated_confidence if reinforced else None,
            reflection_triggered=reflected,
            lesson_promoted=bool(promoted),
            warnings=tuple(warnings),
        )

    async def _write(
        self, scope: Scope, request: FeedbackRequest, pending: PendingRecommendation, key: str
    ) -> _Written | None:
        quality = (
            request.quality_score
            if request.quality_score is not None
            else DEFAULT_QUALITY[request.outcome]
        )
        record = OutcomeRecord(
            task_text=pending.task_text,
            task_type=pending.task_type,
            difficulty=pending.difficulty,
            model_id=request.chosen_model_id,
            outcome=request.outcome,
            quality=quality,
            recorded_at=self._clock(),
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
            cost_usd=request.actual_cost_usd,
            latency_ms=request.latency_ms,
            verified_in_production=request.verified_in_production,
            source="feedback",
            recommendation_id=request.recommendation_id,
            tags=pending.tags,
            idempotency_key=key,
        )
        try:
            record_id = await self._memory.remember(scope, record)
        except Exception as exc:
            # Undo the claim so the caller's retry can apply this feedback.
            await self._release(scope, key)
            if isinstance(exc, Unauthenticated):
                raise
            log.exception("outcome write failed for %s", request.recommendation_id)
            return None
        return _Written(record_id, key, quality)

    async def _release(self, scope: Scope, key: str) -> None:
        try:
            await self._store.release_feedback(scope, key)
        except Exception:
            log.exception("could not release feedback claim; a retry will be ignored")

    async def _reinforce(
        self,
        scope: Scope,
        request: FeedbackRequest,
        pending: PendingRecommendation,
        written: _Written,
    ) -> ReinforcementResult | None:
        """Credit only the chosen model's neighbours that predicted this outcome."""
        band = self._settings.agreement_band
        entries = agreeing_entries(pending, request.chosen_model_id, written.quality, band)
        if not entries:
            return ReinforcementResult(reinforced_entry_ids=(), updated_confidence=None)
        reinforcement = Reinforcement(
            entry_ids=entries,
            signal=1.0,
            idempotency_key=f"rf:{written.key}",
            reference_id=written.record_id,
        )
        try:
            return await self._memory.reinforce(scope, reinforcement)
        except Unauthenticated:
            raise
        except Exception:
            log.exception("reinforcement failed for %s", request.recommendation_id)
            return None

    async def _promote(
        self,
        scope: Scope,
        request: FeedbackRequest,
        pending: PendingRecommendation,
        written: _Written,
    ) -> bool | None:
        """True if promoted, False if not eligible, None if the write failed."""
        eligible = (
            request.verified_in_production
            and request.outcome is Outcome.SUCCESS
            and written.quality >= self._settings.lesson_min_quality
        )
        if not eligible:
            return False
        lesson = Lesson(
            content=(
                f"{request.chosen_model_id} completed a verified production "
                f"{pending.task_type.value} task ({pending.difficulty.value}) at quality "
                f"{written.quality:.0%}: a reliable, cost-effective choice for similar tasks."
            ),
            lesson_type="success",
            task_type=pending.task_type,
            difficulty=pending.difficulty,
            model_id=request.chosen_model_id,
            confidence=written.quality,
            idempotency_key=f"lsn:{written.key}",
            source_entry_ids=(written.record_id,),
        )
        try:
            await self._memory.record_lesson(scope, lesson)
        except Unauthenticated:
            raise
        except Exception:
            log.exception("lesson promotion failed for %s", request.recommendation_id)
            return None
        return True

    async def _reflect(self, scope: Scope, request: FeedbackRequest, written: _Written) -> bool:
        verified_failure = request.verified_in_production and request.outcome is Outcome.FAILURE
        if not (verified_failure or reflection_due(written.key, self._settings.reflect_every)):
            return False
        try:
            await self._memory.reflect(scope)
        except Unauthenticated:
            raise
        except Exception:
            # Reflection is housekeeping: the outcome is stored, the call succeeds.
            log.exception("reflection failed for lane %s", scope.lane)
            return False
        return True
