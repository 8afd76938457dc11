"""Turns a decision into what is stored for feedback and what the caller sees."""

from __future__ import annotations

import time
from datetime import datetime

from minima_grpc.catalog import Catalog
from minima_grpc.engine.decision import Decision, Plan, or_default
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.rationale import evidence_refs, rationale, task_label
from minima_grpc.engine.select import cap_ranked
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import EvidenceRef, RankedModel, RecommendResponse, Scope
from minima_grpc.memory.protocol import NeighbourLabels, PendingRecommendation


def pending_recommendation(
    recommendation_id: str, scope: Scope, plan: Plan, decision: Decision, now: datetime
) -> PendingRecommendation:
    """Everything feedback needs, including the labels of every neighbour of
    every candidate (the caller may run a model other than the pick)."""
    scored = decision.scored
    evidence = [c.evidence for c in scored.candidates if c.evidence is not None]
    return PendingRecommendation(
        recommendation_id=recommendation_id,
        task_text=plan.text,
        task_type=scored.classification.task_type,
        difficulty=scored.classification.difficulty,
        tags=plan.request.task.tags,
        recommended_model_id=decision.selection.pick.model_id,
        evidence={
            e.model_id: NeighbourLabels(e.neighbours.entry_ids, e.neighbours.quality)
            for e in evidence
        },
        est_costs={c.model_id: c.cost for c in scored.candidates},
        created_at=now,
        namespace=scope.namespace,
        user_id=scope.user_id,
    )


def recommend_response(
    recommendation_id: str,
    plan: Plan,
    decision: Decision,
    catalog: Catalog,
    catalog_stale: bool,
    warnings: tuple[str, ...],
    started: float,
    settings: EngineSettings,
) -> RecommendResponse:
    scored, selection = decision.scored, decision.selection
    explain = or_default(plan.request.explain, True)
    limit = or_default(plan.request.max_candidates, settings.default_max_candidates)
    label, tau = task_label(scored.classification), selection.threshold

    def ranked_model(c: Candidate, score: float, evidence: tuple[EvidenceRef, ...]) -> RankedModel:
        return RankedModel(
            model_id=c.model_id,
            provider=c.entry.card.provider,
            predicted_success=round(c.predicted_success, 4),
            est_cost_usd=round(c.cost, 8),
            est_cost_breakdown={k: round(v, 8) for k, v in c.price.breakdown.items()},
            score=score,
            rationale=rationale(c, label, tau, scored.basis),
            decision_basis=c.basis,
            evidence=evidence,
            supports_prompt_caching=c.entry.card.supports_prompt_caching,
            context_window=c.entry.card.context_window,
        )

    shown = cap_ranked(selection, limit)
    candidates = [r.candidate for r in shown]
    no_refs: list[tuple[EvidenceRef, ...]] = [()] * len(shown)
    refs = evidence_refs(candidates, settings.evidence_refs_per_model) if explain else no_refs
    ranked = tuple(ranked_model(r.candidate, r.score, e) for r, e in zip(shown, refs, strict=True))
    by_id = {m.model_id: m for m in ranked}
    pick, fallback = selection.pick, selection.fallback
    return RecommendResponse(
        recommendation_id=recommendation_id,
        recommended_model=by_id[pick.model_id],
        ranked=ranked,
        fallback_model=by_id[fallback.model_id] if fallback is not None else None,
        confidence=round(pick.confidence, 4),
        decision_basis=pick.basis,
        threshold_used=round(selection.threshold, 4),
        classified_task_type=scored.classification.task_type,
        classified_difficulty=scored.classification.difficulty,
        catalog_version=catalog.version,
        catalog_stale=catalog_stale,
        latency_ms=round((time.perf_counter() - started) * 1000.0),
        warnings=warnings,
    )
