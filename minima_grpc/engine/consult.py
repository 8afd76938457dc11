"""Escalation: criteria on the deterministic result and, when allowed and
configured, a cheap LLM's second opinion blended into the predictions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from minima_grpc.engine.aggregate import ModelEvidence
from minima_grpc.engine.classify import Classification, infer_difficulty
from minima_grpc.engine.decision import Decision, Plan, Scored, decide, or_default, score
from minima_grpc.engine.escalate import escalation_reasons
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.reasoner import CandidateView, Reasoner, ReasonerAdvice, ReasonerBrief
from minima_grpc.engine.reasoner.base import excerpt
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import DecisionBasis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Escalation:
    decision: Decision
    reasons: tuple[str, ...]
    # reasoner_consulted | reasoner_failed | reasoner_disabled | None
    reasoner_warning: str | None
    reclassified: bool


async def escalate(
    plan: Plan,
    decision: Decision,
    evidence: Mapping[str, ModelEvidence],
    reasoner: Reasoner | None,
    settings: EngineSettings,
) -> Escalation:
    if not or_default(plan.request.allow_llm_escalation, True):
        return Escalation(decision, (), None, False)
    reasons = tuple(escalation_reasons(decision.selection, evidence, settings))
    ambiguous = plan.classification.is_ambiguous(settings.ambiguous_classification)
    if reasoner is None:
        return Escalation(decision, reasons, "reasoner_disabled" if reasons else None, False)
    if not reasons and not ambiguous:
        return Escalation(decision, reasons, None, False)
    shown = [r.candidate for r in decision.selection.ranked[: settings.reasoner_max_candidates]]
    brief = _brief(plan, decision, shown, reasons, ambiguous)
    try:
        advice = await asyncio.wait_for(
            reasoner.advise(brief), settings.reasoner_timeout_ms / 1000.0
        )
    except Exception:
        log.warning("reasoner failed; keeping the deterministic result", exc_info=True)
        return Escalation(decision, reasons, "reasoner_failed", False)
    scored = decision.scored
    reclassified = _reclassify(plan, scored.classification, advice, ambiguous)
    if reclassified is not None:
        scored = score(plan, reclassified, evidence, settings)
    blended, moved = _blend(scored, advice, {c.model_id for c in shown}, settings)
    if not moved and reclassified is None:
        return Escalation(decision, reasons, None, False)
    redecided = decide(plan.request, blended, settings)
    return Escalation(redecided, reasons, "reasoner_consulted", reclassified is not None)


def _brief(
    plan: Plan,
    decision: Decision,
    shown: Sequence[Candidate],
    reasons: tuple[str, ...],
    ambiguous: bool,
) -> ReasonerBrief:
    cls = decision.scored.classification
    return ReasonerBrief(
        task_excerpt=excerpt(plan.text),
        task_type=cls.task_type,
        difficulty=cls.difficulty,
        classification_is_ambiguous=ambiguous,
        threshold=decision.selection.threshold,
        reasons=reasons,
        candidates=tuple(
            CandidateView(
                c.model_id,
                c.entry.card.provider,
                c.predicted_success,
                c.cost,
                c.evidence.weight if c.evidence else 0.0,
            )
            for c in shown
        ),
    )


def _reclassify(
    plan: Plan, cls: Classification, advice: ReasonerAdvice, ambiguous: bool
) -> Classification | None:
    """A new classification when the reasoner refines an ambiguous type."""
    if not ambiguous or advice.task_type is None or advice.task_type == cls.task_type:
        return None
    if cls.difficulty_from_caller:
        difficulty = cls.difficulty
    else:
        difficulty = advice.difficulty or infer_difficulty(plan.text, advice.task_type)
    return replace(cls, task_type=advice.task_type, difficulty=difficulty)


def _blend(
    scored: Scored, advice: ReasonerAdvice, shown: set[str], settings: EngineSettings
) -> tuple[Scored, bool]:
    """The reasoner's opinion moves each shown prediction by a share that
    shrinks as the evidence behind the prediction grows."""
    moved = False
    out = []
    for c in scored.candidates:
        opinion = advice.success.get(c.model_id) if c.model_id in shown else None
        share = settings.reasoner_blend * (1.0 - c.confidence)
        p = (
            c.predicted_success
            if opinion is None
            else (1 - share) * c.predicted_success + share * opinion
        )
        if abs(p - c.predicted_success) < 1e-6:
            out.append(c)
        else:
            moved = True
            out.append(c._replace(predicted_success=p, basis=DecisionBasis.LLM))
    return replace(scored, candidates=tuple(out)), moved
