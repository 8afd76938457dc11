"""Readable reasons and evidence refs for each ranked model."""

from __future__ import annotations

from minima_grpc.engine.classify import Classification
from minima_grpc.engine.cost import CostBasis
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.types import DecisionBasis, EvidenceRef


def rationale(c: Candidate, classification: Classification, tau: float, basis: CostBasis) -> str:
    label = f"{classification.task_type.value}/{classification.difficulty.value}"
    if c.evidence is not None and c.confidence > 0:
        n = c.evidence.count
        knowledge = (
            f"{n} similar past outcome{'s' if n != 1 else ''} "
            f"(weight {c.evidence.weight:.2f}, weighted success {c.evidence.success_rate:.0%}) "
            f"blended with prior {c.prior:.0%} for {label}"
        )
    else:
        knowledge = f"no similar past outcomes; capability prior {c.prior:.0%} for {label}"
    if c.basis is DecisionBasis.LLM:
        knowledge += "; adjusted by the reasoner"
    verdict = "clears" if c.predicted_success >= tau else "below"
    return (
        f"{knowledge}; predicted {c.predicted_success:.0%} {verdict} threshold {tau:.2f}; "
        f"{basis.tag} ${c.cost:.6f}/call"
    )


def evidence_refs(c: Candidate, limit: int) -> tuple[EvidenceRef, ...]:
    if c.evidence is None:
        return ()
    kept = c.evidence.neighbours
    rows = zip(  # the first column's cut ends the zip: the `limit` heaviest
        kept.entry_ids[:limit],
        kept.reference_ids,
        kept.similarity,
        kept.knowledge_confidence,
        kept.quality,
        kept.is_stale,
        strict=False,
    )
    return tuple(
        [
            EvidenceRef(
                entry_id=entry_id,
                reference_id=reference_id,
                model_id=c.model_id,
                score=round(similarity, 4),
                knowledge_confidence=round(confidence, 4),
                observed_success=round(quality, 4),
                is_stale=is_stale,
            )
            for entry_id, reference_id, similarity, confidence, quality, is_stale in rows
        ]
    )
