"""Readable reasons and evidence refs for each ranked model."""

from __future__ import annotations

from minima_grpc.engine.classify import Classification
from minima_grpc.engine.cost import CostBasis
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.types import DecisionBasis, EvidenceRef


def rationale(c: Candidate, classification: Classification, tau: float, basis: CostBasis) -> str:
    label = f"{classification.task_type.value}/{classification.difficulty.value}"
    if c.evidence is not None and c.confidence > 0:
        n = c.evidence.counted
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
    """The `limit` heaviest neighbours behind the prediction, read from the recall."""
    if c.evidence is None:
        return ()
    model_id, n = c.model_id, c.evidence.neighbours.recall
    return tuple(
        [
            EvidenceRef(
                entry_id=n.entry_ids[j],
                reference_id=n.reference_ids[j],
                model_id=model_id,
                score=round(float(n.similarity[j]), 4),
                knowledge_confidence=round(float(n.knowledge_confidence[j]), 4),
                observed_success=round(float(n.quality[j]), 4),
                is_stale=bool(n.is_stale[j]),
            )
            for j in c.evidence.neighbours.rows[:limit]
        ]
    )
