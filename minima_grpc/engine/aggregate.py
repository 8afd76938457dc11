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

A recall carries a hundred or more neighbours per model, so the arithmetic
runs on numpy columns; only the heaviest few neighbours per model are kept as
objects (for evidence refs and feedback credit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from minima_grpc.engine.settings import EngineSettings
from minima_grpc.memory.protocol import RecalledOutcome

FloatArray = npt.NDArray[np.float64]


class WeightedNeighbour(NamedTuple):
    """A recalled outcome and its weight."""

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
    # Neighbours with a positive weight (all of them count in the masses).
    count: int
    # The heaviest of them, heaviest first (at most settings.kept_neighbours_per_model).
    neighbours: tuple[WeightedNeighbour, ...]
    observed_cost: float | None
    cost_samples: int
    observed_output_tokens: float | None
    token_samples: int

    @property
    def success_rate(self) -> float:
        return self.success_mass / self.weight if self.weight > 0 else 0.0


class _Columns(NamedTuple):
    """One row per neighbour."""

    model: FloatArray  # index into the candidate ids
    similarity: FloatArray
    confidence: FloatArray
    recorded_at: FloatArray  # POSIX seconds
    stale: FloatArray  # 1.0 when marked stale
    seeded: FloatArray  # 1.0 when seeded from a dataset
    quality: FloatArray
    cost: FloatArray  # 0.0 when unknown
    output_tokens: FloatArray  # 0.0 when unknown


def _columns(
    outcomes: Iterable[RecalledOutcome], index: Mapping[str, int]
) -> tuple[_Columns, list[RecalledOutcome]]:
    """Columns of the outcomes about indexed models, each entry once (a backend
    may return an entry twice; the first counts), and those outcomes in order.
    The one pass over Python objects: it is most of the aggregation's cost."""
    seen: set[str] = set()
    kept: list[RecalledOutcome] = []
    flat: list[float] = []
    add = flat.extend
    for o in outcomes:
        r = o.record
        i = index.get(r.model_id)
        if i is None or o.entry_id in seen:
            continue
        seen.add(o.entry_id)
        kept.append(o)
        add((i, o.similarity, o.knowledge_confidence, r.recorded_at.timestamp(), o.is_stale,
             r.source.startswith("seed"), r.quality, r.cost_usd or 0.0,
             r.output_tokens or 0))  # fmt: skip
    table = np.array(flat, dtype=np.float64).reshape(len(kept), len(_Columns._fields))
    return _Columns(*table.T), kept


def _weights(c: _Columns, best: float, now: datetime, settings: EngineSettings) -> FloatArray:
    floor = settings.similarity_floor
    closeness = np.minimum(c.similarity / max(best, floor, 1e-12), 1.0)
    power = settings.similarity_power
    kernel = np.where(c.similarity > floor, closeness if power == 1.0 else closeness**power, 0.0)
    rf = settings.reliability_floor
    reliability = rf + (1.0 - rf) * np.clip(c.confidence, 0.0, 1.0)
    # decay = 0.5 ** (age / half-life), floored; records from the future do not decay
    age = np.maximum(now.timestamp() - c.recorded_at, 0.0)
    decay = np.maximum(np.exp2(-age / (settings.age_half_life_days * 86400.0)),
                       settings.age_weight_floor)  # fmt: skip
    decay = np.where(age > 0.0, decay, 1.0)
    stale = np.where(c.stale > 0.0, settings.stale_weight, 1.0)
    seeded = np.where(c.seeded > 0.0, settings.seed_weight, 1.0)
    weights: FloatArray = kernel * reliability * decay * stale * seeded
    return weights


def neighbour_weights(
    outcomes: Sequence[RecalledOutcome],
    best_similarity: float,
    now: datetime,
    settings: EngineSettings,
) -> FloatArray:
    """The weight of each (distinct) outcome, its kernel relative to `best_similarity`."""
    columns, _ = _columns(outcomes, {o.record.model_id: 0 for o in outcomes})
    return _weights(columns, best_similarity, now, settings)


def aggregate(
    neighbours: Sequence[RecalledOutcome],
    candidate_ids: Iterable[str],
    now: datetime,
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    """Evidence for every candidate that has at least one weighted neighbour."""
    ids = list(dict.fromkeys(candidate_ids))
    columns, kept = _columns(neighbours, {model_id: i for i, model_id in enumerate(ids)})
    if not kept:
        return {}
    weights = _weights(columns, float(columns.similarity.max()), now, settings)
    return _summarise(ids, weights, columns, kept, settings)


def _summarise(
    ids: Sequence[str],
    weights: FloatArray,
    c: _Columns,
    kept: Sequence[RecalledOutcome],
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    n_models = len(ids)
    model = c.model.astype(np.int64)

    def per_model(values: FloatArray) -> FloatArray:
        # (float already with weights; the cast only informs the type checker)
        return np.bincount(model, weights=values, minlength=n_models).astype(np.float64, copy=False)

    counted = weights > 0.0
    count = per_model(counted.astype(np.float64))
    mass = per_model(weights)
    success = per_model(weights * c.quality)
    # Realized costs and output tokens: positive samples only, weighted like the evidence.
    has_cost, has_tokens = counted & (c.cost > 0.0), counted & (c.output_tokens > 0.0)
    cost_n = per_model(has_cost.astype(np.float64))
    token_n = per_model(has_tokens.astype(np.float64))
    cost_sum, cost_w = per_model(weights * c.cost * has_cost), per_model(weights * has_cost)
    token_sum = per_model(weights * c.output_tokens * has_tokens)
    token_w = per_model(weights * has_tokens)
    # Heaviest first within each model; ties keep recall order (stable sort).
    ranked = np.lexsort((-weights, model))
    ranked = ranked[counted[ranked]]
    order: list[int] = ranked.tolist()
    starts: list[int] = np.searchsorted(model[ranked], np.arange(n_models)).tolist()
    keep, min_samples = settings.kept_neighbours_per_model, settings.observed_min_samples
    evidence = {}
    for i in np.flatnonzero(count > 0).tolist():
        top = order[starts[i] : starts[i] + min(keep, int(count[i]))]
        evidence[ids[i]] = ModelEvidence(
            model_id=ids[i],
            weight=float(mass[i]),
            success_mass=float(success[i]),
            count=int(count[i]),
            neighbours=tuple(WeightedNeighbour(kept[j], float(weights[j])) for j in top),
            observed_cost=float(cost_sum[i] / cost_w[i]) if cost_n[i] >= min_samples else None,
            cost_samples=int(cost_n[i]),
            observed_output_tokens=(
                float(token_sum[i] / token_w[i]) if token_n[i] >= min_samples else None
            ),
            token_samples=int(token_n[i]),
        )
    return evidence
