"""Per-model evidence from recalled neighbours.

Each neighbour is a past outcome of a similar task. Its weight says how much it
should count for this prompt:

    weight = kernel(similarity) * reliability(knowledge_confidence)
             * age_decay(recorded_at) * stale_factor * source_factor

so close, trusted, recent, first-hand outcomes dominate. Per model the weights
add up to an evidence mass W and a success mass WS (weight x quality).
Realized costs and output tokens of the same neighbours give the observed and
rescaled cost tiers (weighted means: expected cost is a mean).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from minima_grpc.engine.settings import EngineSettings
from minima_grpc.memory.protocol import RecalledOutcome


@dataclass(frozen=True, slots=True)
class WeightedNeighbour:
    outcome: RecalledOutcome
    weight: float

    @property
    def quality(self) -> float:
        return self.outcome.record.quality


@dataclass(frozen=True, slots=True)
class ModelEvidence:
    model_id: str
    weight: float
    success_mass: float
    # Heaviest first.
    neighbours: tuple[WeightedNeighbour, ...]
    observed_cost: float | None
    cost_samples: int
    observed_output_tokens: float | None
    token_samples: int

    @property
    def success_rate(self) -> float:
        return self.success_mass / self.weight if self.weight > 0 else 0.0


def neighbour_weight(outcome: RecalledOutcome, now: datetime, settings: EngineSettings) -> float:
    floor = settings.similarity_floor
    closeness = (outcome.similarity - floor) / (1.0 - floor)
    if closeness <= 0.0:
        return 0.0
    kernel = math.pow(min(1.0, closeness), settings.similarity_power)
    kc = min(1.0, max(0.0, outcome.knowledge_confidence))
    reliability = settings.reliability_floor + (1.0 - settings.reliability_floor) * kc
    age_days = max(0.0, (now - outcome.record.recorded_at).total_seconds() / 86400.0)
    decay = max(settings.age_weight_floor, math.pow(0.5, age_days / settings.age_half_life_days))
    stale = settings.stale_weight if outcome.is_stale else 1.0
    seeded = settings.seed_weight if outcome.record.source.startswith("seed") else 1.0
    return kernel * reliability * decay * stale * seeded


def aggregate(
    neighbours: Iterable[RecalledOutcome],
    candidate_ids: Iterable[str],
    now: datetime,
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    """Evidence for every candidate that has at least one weighted neighbour."""
    wanted = set(candidate_ids)
    grouped: dict[str, dict[str, WeightedNeighbour]] = {}
    for outcome in neighbours:
        model_id = outcome.record.model_id
        if model_id not in wanted:
            continue
        weight = neighbour_weight(outcome, now, settings)
        if weight <= 0.0:
            continue
        # A backend may return an entry twice; it counts once (first seen).
        grouped.setdefault(model_id, {}).setdefault(
            outcome.entry_id, WeightedNeighbour(outcome, weight)
        )
    return {
        model_id: _summarise(model_id, by_entry.values(), settings.observed_min_samples)
        for model_id, by_entry in grouped.items()
    }


def _summarise(
    model_id: str, items: Iterable[WeightedNeighbour], min_samples: int
) -> ModelEvidence:
    ranked = tuple(sorted(items, key=lambda n: (-n.weight, n.outcome.entry_id)))
    weight = math.fsum(n.weight for n in ranked)
    success = math.fsum(n.weight * n.quality for n in ranked)
    costs = {n.outcome.entry_id: n.outcome.record.cost_usd for n in ranked}
    tokens = {n.outcome.entry_id: n.outcome.record.output_tokens for n in ranked}
    cost, cost_n = _weighted_mean(ranked, costs, min_samples)
    out_tokens, token_n = _weighted_mean(ranked, tokens, min_samples)
    return ModelEvidence(
        model_id=model_id,
        weight=weight,
        success_mass=success,
        neighbours=ranked,
        observed_cost=cost,
        cost_samples=cost_n,
        observed_output_tokens=out_tokens,
        token_samples=token_n,
    )


def _weighted_mean(
    ranked: tuple[WeightedNeighbour, ...],
    values: Mapping[str, float | int | None],
    min_samples: int,
) -> tuple[float | None, int]:
    """Mean of the positive values, weighted like the evidence; None below min_samples."""
    pairs = [
        (n.weight, float(v))
        for n in ranked
        if (v := values[n.outcome.entry_id]) is not None and v > 0
    ]
    if len(pairs) < min_samples:
        return None, len(pairs)
    total = math.fsum(w for w, _ in pairs)
    return math.fsum(w * v for w, v in pairs) / total, len(pairs)
