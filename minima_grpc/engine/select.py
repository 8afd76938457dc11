"""Threshold, ranking, pick and fallback.

The pick is the cheapest candidate whose predicted success clears tau; when
none does, the one most likely to succeed (`no_model_meets_threshold`). The
ranking score encodes exactly that order, so `ranked[0]` is always the pick:

    clears tau:  score = 1 + (1 - cost_position)   in [1, 2], cheaper is higher
    below tau:   score = p - tau                   in [-1, 0), closer is higher

cost_position places a cost between the cheapest (0) and the priciest (1)
candidate on a log scale, since prices span orders of magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.settings import EngineSettings

# Keeps log() finite for zero-cost estimates (0 expected tokens).
_COST_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    score: float


@dataclass(frozen=True, slots=True)
class Selection:
    ranked: tuple[Ranked, ...]
    fallback: Candidate | None
    threshold: float

    @property
    def pick(self) -> Candidate:
        return self.ranked[0].candidate

    @property
    def met_threshold(self) -> bool:
        """Whether any candidate cleared tau (an exploration pick may not have)."""
        return any(r.candidate.predicted_success >= self.threshold for r in self.ranked)


def threshold(
    tradeoff: float, min_quality: float | None, best: float, settings: EngineSettings
) -> float:
    """tau from the slider, lowered to within a slider-dependent margin of the
    best candidate's prediction when none reaches it (no margin at 10), so a
    high bar nothing can clear still prefers a cheap near-best model over the
    priciest one. min_quality is a hard floor: it only raises tau."""
    slider = min(10.0, max(0.0, tradeoff)) / 10.0
    tau = settings.tau_min + slider * (settings.tau_max - settings.tau_min)
    if settings.tau_margin_max is not None:
        tau = min(tau, best - (1.0 - slider) * settings.tau_margin_max)
    return max(tau, min_quality) if min_quality is not None else tau


def select(candidates: Sequence[Candidate], tau: float, settings: EngineSettings) -> Selection:
    if not candidates:
        raise ValueError("select() needs at least one candidate")
    logs = [math.log(c.cost + _COST_EPSILON) for c in candidates]
    low, span = min(logs), max(logs) - min(logs)
    scored = []
    for candidate, log_cost in zip(candidates, logs, strict=True):
        position = (log_cost - low) / span if span > 0 else 0.0
        if candidate.predicted_success >= tau:
            score = 1.0 + (1.0 - position)
        else:
            score = candidate.predicted_success - tau
        scored.append(Ranked(candidate, round(score, 6)))
    scored.sort(
        key=lambda r: (
            -r.score,
            -r.candidate.predicted_success,
            -r.candidate.confidence,
            r.candidate.model_id,
        )
    )
    pick = scored[0].candidate
    return Selection(tuple(scored), fallback_for(pick, candidates, settings), tau)


def fallback_for(
    pick: Candidate, candidates: Sequence[Candidate], settings: EngineSettings
) -> Candidate | None:
    """The cheapest clearly more reliable retry target, if any."""
    floor = pick.predicted_success + settings.fallback_min_gain
    better = [c for c in candidates if c is not pick and c.predicted_success >= floor]
    if not better:
        return None
    return min(better, key=lambda c: (c.cost, -c.predicted_success, c.model_id))


def cap_ranked(selection: Selection, limit: int) -> tuple[Ranked, ...]:
    """The first `limit` ranked candidates, always keeping the fallback."""
    kept = list(selection.ranked[:limit])
    fallback = selection.fallback
    if fallback is not None and all(r.candidate is not fallback for r in kept):
        entry = next(r for r in selection.ranked if r.candidate is fallback)
        kept = [*kept[: max(1, limit - 1)], entry] if limit > 1 else [*kept, entry]
    return tuple(kept)
