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

A recall carries a hundred or more neighbours per model, as numpy columns
(`Neighbours`); only the heaviest few per model are kept (for evidence refs
and feedback credit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

import numpy as np

from minima_grpc.engine.settings import EngineSettings
from minima_grpc.memory.protocol import BoolArray, FloatArray, IntArray, Neighbours


class KeptNeighbours(NamedTuple):
    """The heaviest neighbours of one model, heaviest first, ties in recall
    order: their rows in the recall, and the columns feedback needs of every
    one of them. Evidence refs read the few other values they show straight
    from the recall: copying every column of every kept neighbour costs more.
    A NamedTuple: a few dozen are built per recommendation, and a frozen
    dataclass costs four times as much."""

    recall: Neighbours
    rows: tuple[int, ...]
    entry_ids: tuple[str, ...]
    quality: tuple[float, ...]


class ModelEvidence(NamedTuple):
    """What the recalled neighbours say about one candidate. A NamedTuple, like
    KeptNeighbours: one is built per candidate per recommendation."""

    model_id: str
    weight: float
    success_mass: float
    # Neighbours with a positive weight (all of them count in the masses).
    counted: int
    # The heaviest of them (at most settings.kept_neighbours_per_model).
    neighbours: KeptNeighbours
    observed_cost: float | None
    cost_samples: int
    observed_output_tokens: float | None
    token_samples: int

    @property
    def success_rate(self) -> float:
        return self.success_mass / self.weight if self.weight > 0 else 0.0


def neighbour_weights(
    n: Neighbours, best_similarity: float, now: datetime, settings: EngineSettings
) -> FloatArray:
    """The weight of each neighbour, its kernel relative to `best_similarity`."""
    floor = settings.similarity_floor
    closeness = np.minimum(n.similarity / max(best_similarity, floor, 1e-12), 1.0)
    power = settings.similarity_power
    kernel = np.where(n.similarity > floor, closeness if power == 1.0 else closeness**power, 0.0)
    rf = settings.reliability_floor
    # (clipped by two ufuncs: np.clip's own overhead is larger than both)
    confidence = np.minimum(np.maximum(n.knowledge_confidence, 0.0), 1.0)
    reliability = rf + (1.0 - rf) * confidence
    # decay = 0.5 ** (age / half-life), floored; records from the future do not decay
    age = np.maximum(now.timestamp() - n.recorded_at, 0.0)
    decay = np.maximum(np.exp2(age / -(settings.age_half_life_days * 86400.0)),
                       settings.age_weight_floor)  # fmt: skip
    decay = np.where(age > 0.0, decay, 1.0)
    stale = np.where(n.is_stale, settings.stale_weight, 1.0)
    seeded = np.where(n.seeded, settings.seed_weight, 1.0)
    weights: FloatArray = kernel * reliability * decay * stale * seeded
    return weights


def aggregate(
    neighbours: Neighbours,
    candidate_ids: Iterable[str],
    now: datetime,
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    """Evidence for every candidate that has at least one weighted neighbour."""
    ids = list(dict.fromkeys(candidate_ids))
    # Each row's candidate index; rows about other models go to an extra bucket
    # (index len(ids)) with weight 0, so they count nowhere.
    index = {model_id: i for i, model_id in enumerate(ids)}
    lookup = [index.get(m, len(ids)) for m in neighbours.model_ids]
    model: IntArray = np.array(lookup, dtype=np.intp)[neighbours.model]
    if len(ids) not in lookup:  # every row is about a candidate: the usual case
        if not len(neighbours):
            return {}
        best = float(neighbours.similarity.max())
        weights = neighbour_weights(neighbours, best, now, settings)
    else:
        about = model < len(ids)
        if not about.any():
            return {}
        best = float(neighbours.similarity[about].max())
        weights = np.where(about, neighbour_weights(neighbours, best, now, settings), 0.0)
    return _summarise(ids, model, weights, neighbours, settings)


def _summarise(
    ids: Sequence[str],
    model: IntArray,
    weights: FloatArray,
    n: Neighbours,
    settings: EngineSettings,
) -> dict[str, ModelEvidence]:
    buckets = len(ids) + 1

    # Plain numbers per model: indexing numpy arrays one value at a time is slow.
    def total(values: FloatArray) -> list[float]:
        sums: list[float] = np.bincount(model, weights=values, minlength=buckets).tolist()
        return sums

    def how_many(rows: BoolArray) -> list[int]:
        found: list[int] = np.bincount(model[rows], minlength=buckets).tolist()
        return found

    counted = weights > 0.0
    masses, successes, counts = total(weights), total(weights * n.quality), how_many(counted)
    # Realized costs and output tokens: positive samples only (NaN = unknown is
    # not > 0), weighted like the evidence.
    has_cost, has_tokens = counted & (n.cost_usd > 0.0), counted & (n.output_tokens > 0.0)
    cost_w, token_w = np.where(has_cost, weights, 0.0), np.where(has_tokens, weights, 0.0)
    cost_ns, cost_masses = how_many(has_cost), total(cost_w)
    cost_sums = total(np.where(has_cost, cost_w * n.cost_usd, 0.0))
    token_ns, token_masses = how_many(has_tokens), total(token_w)
    token_sums = total(np.where(has_tokens, token_w * n.output_tokens, 0.0))
    ranked = _ranked(model, weights, buckets)
    # Plain lists, sliced per model below.
    ranked_rows: list[int] = ranked.tolist()
    ranked_quality: list[float] = n.quality[ranked].tolist()
    sizes: list[int] = np.bincount(model, minlength=buckets).tolist()
    entry_ids, keep = n.entry_ids, settings.kept_neighbours_per_model
    min_samples = settings.observed_min_samples
    evidence = {}
    first = 0  # where model i's rows start in the ranking
    for i, model_id in enumerate(ids):
        start, first = first, first + sizes[i]
        if counts[i] == 0:
            continue
        # Its counted neighbours rank first: the heaviest `keep` of them.
        kept = slice(start, start + min(counts[i], keep))
        mine = ranked_rows[kept]
        neighbours = KeptNeighbours(
            n, tuple(mine), tuple([entry_ids[j] for j in mine]), tuple(ranked_quality[kept])
        )
        # (positional: a NamedTuple is built twice as fast without keywords)
        evidence[model_id] = ModelEvidence(
            model_id,
            masses[i],
            successes[i],
            counts[i],
            neighbours,
            cost_sums[i] / cost_masses[i] if cost_ns[i] >= min_samples else None,
            cost_ns[i],
            token_sums[i] / token_masses[i] if token_ns[i] >= min_samples else None,
            token_ns[i],
        )
    return evidence


def _ranked(model: IntArray, weights: FloatArray, buckets: int) -> IntArray:
    """Every row, grouped by model, heaviest first within a model (ties keep
    recall order: the sort is stable). A model's counted neighbours (weight > 0)
    come before the rest of its rows."""
    # (lexsort sorts a narrow integer key much faster: the narrowest that fits)
    narrow = model.astype(np.min_scalar_type(buckets))
    ranked: IntArray = np.lexsort((-weights, narrow))
    return ranked
