"""Per-model evidence from recalled neighbours.

Each neighbour is a past outcome of a similar task. Its weight says how much it
should count for this prompt:

    weight = kernel(similarity) * reliability(knowledge_confidence)
             * age_decay(recorded_at) * stale_factor * source_factor

so close, trusted, recent, first-hand outcomes dominate. The kernel is
relative to the closest neighbour of this recall, (similarity / best) ** power,
and zero at or below an absolute floor: similarity scales differ between memory
backends (a TF-IDF cosine of two prompts of one kind may be 0.2, a dense
embedding's 0.8), while "half as close as the best match" means the same in
both. Per model the weights add up to an evidence mass W and a success mass WS
(weight x quality). Realized costs and output tokens of the same neighbours
give the observed and rescaled cost tiers (weighted means: expected cost is a
mean).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from minima_grpc.engine.settings import EngineSettings
from minima_grpc.memory.protocol import RecalledOutcome


class WeightedNeighbour(NamedTuple):
    """A recalled outcome and its weight (a tuple: hundreds are built per request)."""

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


class NeighbourWeigher:
    """The weight formula with its settings folded into constants: it runs for
    every recalled neighbour of every request."""

    def __init__(self, best_similarity: float, now: datetime, settings: EngineSettings) -> None:
        self._now = now.timestamp()
        self._floor = settings.similarity_floor
        self._best = max(best_similarity, settings.similarity_floor)
        self._power = settings.similarity_power
        self._reliability_floor = settings.reliability_floor
        # decay = 0.5 ** (age / half-life) = exp(-age * ln 2 / half-life), age in seconds
        self._decay_rate = math.log(2.0) / (settings.age_half_life_days * 86400.0)
        self._decay_floor = settings.age_weight_floor
        self._stale = settings.stale_weight
        self._seed = settings.seed_weight

    def __call__(self, outcome: RecalledOutcome) -> float:
        # Plain comparisons instead of min()/max(): this is the hot loop.
        similarity = outcome.similarity
        if similarity <= self._floor:
            return 0.0
        closeness = similarity / self._best
        closeness = 1.0 if closeness > 1.0 else closeness
        kernel = closeness * closeness if self._power == 2.0 else closeness**self._power
        kc = outcome.knowledge_confidence
        kc = 0.0 if kc < 0.0 else 1.0 if kc > 1.0 else kc
        weight = kernel * (self._reliability_floor + (1.0 - self._reliability_floor) * kc)
        record = outcome.record
        age = self._now - record.recorded_at.timestamp()
        if age > 0.0:
            decay = math.exp(-age * self._decay_rate)
            weight *= decay if decay > self._decay_floor else self._decay_floor
        if outcome.is_stale:
            weight *= self._stale
        if record.source.startswith("seed"):
            weight *= self._seed
        return float(weight)


def aggregate(
    neighbours: Sequence[RecalledOutcome],
    candidate_ids: Iterable[str],
    now: datetime,
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    """Evidence for every candidate that has at least one weighted neighbour."""
    wanted = set(candidate_ids)
    relevant = [o for o in neighbours if o.record.model_id in wanted]
    if not relevant:
        return {}
    weigh = NeighbourWeigher(max(o.similarity for o in relevant), now, settings)
    grouped: dict[str, dict[str, WeightedNeighbour]] = {}
    for outcome in relevant:
        weight = weigh(outcome)
        if weight <= 0.0:
            continue
        model_id = outcome.record.model_id
        by_entry = grouped.get(model_id)
        if by_entry is None:
            by_entry = grouped[model_id] = {}
        # A backend may return an entry twice; it counts once (first seen).
        if outcome.entry_id not in by_entry:
            by_entry[outcome.entry_id] = WeightedNeighbour(outcome, weight)
    return {
        model_id: _summarise(model_id, by_entry.values(), settings.observed_min_samples)
        for model_id, by_entry in grouped.items()
    }


def _summarise(
    model_id: str, items: Iterable[WeightedNeighbour], min_samples: int
) -> ModelEvidence:
    ranked = tuple(sorted(items, key=_heaviest_first))
    weight = success = 0.0
    # Realized costs and output tokens: positive samples only, weighted like the evidence.
    cost_n = token_n = 0
    cost_sum = cost_weights = token_sum = token_weights = 0.0
    for n in ranked:
        record, w = n.outcome.record, n.weight
        weight += w
        success += w * record.quality
        if record.cost_usd is not None and record.cost_usd > 0:
            cost_n += 1
            cost_sum += w * record.cost_usd
            cost_weights += w
        if record.output_tokens is not None and record.output_tokens > 0:
            token_n += 1
            token_sum += w * record.output_tokens
            token_weights += w
    return ModelEvidence(
        model_id=model_id,
        weight=weight,
        success_mass=success,
        neighbours=ranked,
        observed_cost=cost_sum / cost_weights if cost_n >= min_samples else None,
        cost_samples=cost_n,
        observed_output_tokens=token_sum / token_weights if token_n >= min_samples else None,
        token_samples=token_n,
    )


def _heaviest_first(n: WeightedNeighbour) -> tuple[float, str]:
    return -n.weight, n.outcome.entry_id
