"""Threshold, ranking, pick and fallback.

The slider says how much predicted success the caller would give up to pay
less. Each candidate's value is

    value  = p - lambda * ln(cost / cheapest cost)
    lambda = price_sensitivity_max * (1 - slider / 10) ** price_sensitivity_shape

so lambda is the predicted success worth paying e times more for, and only
price ratios matter (prices span orders of magnitude). At 10 lambda is 0
(highest quality); at 0 it is largest (cheapest acceptable).

A candidate is acceptable when p reaches the floor max(tau_min, min_quality).
tau is the predicted success of the acceptable candidate of the highest value,
and the pick is the cheapest candidate clearing tau - which is that candidate,
since a cheaper one clearing tau would be worth more. So the documented rule
("the cheapest model clearing tau") holds while tau follows the caller's price
sensitivity and the candidates at hand, instead of a fixed bar that sends easy
tasks to the weakest model above it and hard ones to the priciest. When no
candidate is acceptable, tau is the floor, nothing clears it and the most
likely to succeed is picked (`no_model_meets_threshold`).

The ranking score is the value, so `ranked[0]` is always the pick; a candidate
below the floor scores under every acceptable one:

    acceptable:   score = value
    below floor:  score = p - floor - 1 - lambda * ln(priciest / cheapest)

Equal scores rank the cheaper candidate first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.settings import EngineSettings

# Keeps log() finite for zero-cost estimates (0 expected tokens).
_COST_EPSILON = 1e-9


class Ranked(NamedTuple):
    """A NamedTuple: one per candidate per pick."""

    candidate: Candidate
    score: float


class Selection(NamedTuple):
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


def price_sensitivity(tradeoff: float, settings: EngineSettings) -> float:
    """lambda: the predicted success worth paying e times more for."""
    slider = min(10.0, max(0.0, tradeoff)) / 10.0
    return settings.price_sensitivity_max * math.pow(1.0 - slider, settings.price_sensitivity_shape)


def select(
    candidates: Sequence[Candidate],
    tradeoff: float,
    min_quality: float | None,
    settings: EngineSettings,
) -> Selection:
    if not candidates:
        raise ValueError("select() needs at least one candidate")
    lam = price_sensitivity(tradeoff, settings)
    floor = settings.tau_min if min_quality is None else max(settings.tau_min, min_quality)
    # ln(cost / cheapest); the epsilon keeps zero-cost estimates finite
    logs = [math.log(c.cost + _COST_EPSILON) for c in candidates]
    cheapest, span = min(logs), max(logs) - min(logs)
    scores = [
        round(p - lam * (log_cost - cheapest) if p >= floor else p - floor - 1.0 - lam * span, 6)
        for p, log_cost in zip((c.predicted_success for c in candidates), logs, strict=True)
    ]
    # (pairs sorted, then made Ranked in one map: a Ranked per candidate
    # through its own __new__, and a key reading its fields, cost more)
    pairs = sorted(
        zip(candidates, scores, strict=True),
        key=lambda pair: (-pair[1], pair[0].cost, -pair[0].confidence, pair[0].model_id),
    )
    scored = tuple(map(Ranked._make, pairs))
    pick = scored[0].candidate
    tau = pick.predicted_success if pick.predicted_success >= floor else floor
    return Selection(scored, fallback_for(pick, candidates, settings), tau)


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
