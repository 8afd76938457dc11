"""When a cheap LLM's second opinion is worth asking for.

thin_evidence   too little recalled evidence overall, or too few models with any
low_confidence  the pick's prediction rests mostly on its prior
tie             the two best-ranked candidates are practically interchangeable
conflict        the pick's own neighbours disagree with each other
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from minima_grpc.engine.aggregate import ModelEvidence
from minima_grpc.engine.select import Selection
from minima_grpc.engine.settings import EngineSettings


def escalation_reasons(
    selection: Selection, evidence: Mapping[str, ModelEvidence], settings: EngineSettings
) -> list[str]:
    reasons = []
    total = math.fsum(e.weight for e in evidence.values())
    if total < settings.thin_evidence_weight or len(evidence) < settings.thin_evidence_models:
        reasons.append("thin_evidence")
    if selection.pick.confidence < settings.low_confidence:
        reasons.append("low_confidence")
    ranked = selection.ranked
    if len(ranked) > 1 and ranked[0].score - ranked[1].score < settings.tie_delta:
        reasons.append("tie")
    mine = evidence.get(selection.pick.model_id)
    if (
        mine is not None
        and mine.weight >= settings.conflict_min_weight
        and settings.conflict_low <= mine.success_rate <= settings.conflict_high
    ):
        reasons.append("conflict")
    return reasons
