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


_kept, _evidence = KeptNeighbours._make, ModelEvidence._make


def neighbour_weights(
    n: Neighbours, best_similarity: float, now: datetime, settings: EngineSettings
) -> FloatArray:
    """The weight of each neighbour, its kernel relative to `best_similarity`."""
    floor = settings.similarity_floor
    closeness = np.minimum(n.similarity / max(best_similarity, floor, 1e-12), 1.0)
    kernel = np.where(n.similarity > floor, _power(closeness, settings.similarity_power), 0.0)
    rf = settings.reliability_floor
    # (clipped by two ufuncs: np.clip's own overhead is larger than both)
    confidence = np.minimum(np.maximum(n.knowledge_confidence, 0.0), 1.0)
    reliability = rf + (1.0 - rf) * confidence
    # decay = 0.5 ** (age / half-life), floored; records from the future do not decay
    age = np.maximum(now.timestamp() - n.recorded_at, 0.0)
    decay = np.maximum(np.exp2(age / -(settings.age_half_life_days * 86400.0)),
                       settings.age_weight_floor)  # fmt: skip
    # (in place: a new array per product costs more than the product)
    weights: FloatArray = kernel
    weights *= reliability
    weights *= decay
    weights *= np.where(n.is_stale, settings.stale_weight, 1.0)
    weights *= np.where(n.seeded, settings.seed_weight, 1.0)
    return weights


def _power(values: FloatArray, power: float) -> FloatArray:
    """values ** power, for values in [0, 1]. Whole and half powers take
    products and a square root: numpy's general float power costs 8x more."""
    whole, rest = divmod(power, 1.0)
    if rest not in (0.0, 0.5) or not 0.0 <= whole <= 4.0:
        raised: FloatArray = values**power
        return raised
    out = np.sqrt(values) if rest else np.ones_like(values)
    for _ in range(int(whole)):
        out *= values
    return out


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
    rows_per_model = np.bincount(model, minlength=buckets)
    # (usually every row counts, and every counted row has a cost and output
    # tokens: then the counts and masses below are ones already at hand)
    every = bool(counted.all())
    counts: list[int] = rows_per_model.tolist() if every else how_many(counted)
    masses, successes = total(weights), total(weights * n.quality)

    def observed(values: FloatArray) -> tuple[list[int], list[float], list[float]]:
        """Samples, their weight and their weighted sum per model, of the
        positive values only (NaN = unknown is not > 0): realized costs and
        output tokens, weighted like the evidence."""
        has = counted & (values > 0.0)
        if every and has.all():
            return counts, masses, total(weights * values)
        weighted = np.where(has, weights, 0.0)
        return how_many(has), total(weighted), total(np.where(has, weighted * values, 0.0))

    cost_ns, cost_masses, cost_sums = observed(n.cost_usd)
    token_ns, token_masses, token_sums = observed(n.output_tokens)
    kept_rows = _heaviest(
        model, weights, rows_per_model, counts, settings.kept_neighbours_per_model, buckets
    )
    # Plain tuples of the kept rows only, sliced per model below.
    row_list: list[int] = kept_rows.tolist()
    rows, entry_ids = tuple(row_list), tuple(n.entry_ids.take(row_list))
    quality = tuple(n.quality[kept_rows].tolist())
    keep, min_samples = settings.kept_neighbours_per_model, settings.observed_min_samples
    evidence = {}
    first = 0  # where model i's kept rows start in `rows`
    for i, model_id in enumerate(ids):
        count = counts[i]
        if count == 0:
            continue
        start, first = first, first + (count if count < keep else keep)
        kept = slice(start, first)
        # (by _make, from a tuple: a NamedTuple's own __new__ costs twice as much)
        neighbours = _kept((n, rows[kept], entry_ids[kept], quality[kept]))
        cost_n, token_n = cost_ns[i], token_ns[i]
        evidence[model_id] = _evidence(
            (
                model_id,
                masses[i],
                successes[i],
                count,
                neighbours,
                cost_sums[i] / cost_masses[i] if cost_n >= min_samples else None,
                cost_n,
                token_sums[i] / token_masses[i] if token_n >= min_samples else None,
                token_n,
            )
        )
    return evidence


def _heaviest(
    model: IntArray,
    weights: FloatArray,
    rows_per_model: IntArray,
    counts: list[int],
    keep: int,
    buckets: int,
) -> IntArray:
    """The rows of each model's `keep` heaviest counted neighbours, grouped by
    model, heaviest first, equal weights in recall order."""
    ranked = _ranked(model, weights, buckets)
    # A model's counted rows (weight > 0) rank first among its rows: its first
    # `taken` rows. Skipped: how many rows before its block are not taken.
    taken = np.minimum(counts, keep)
    left = rows_per_model - taken
    skipped = np.cumsum(left) - left
    kept: IntArray = ranked[np.arange(taken.sum()) + np.repeat(skipped, taken)]
    return kept


def _ranked(model: IntArray, weights: FloatArray, buckets: int) -> IntArray:
    """Every row, grouped by model, heaviest first, equal weights in recall order.

    numpy sorts values several times faster than it argsorts them, so each row
    is packed into one int64 - model, then lightness (1 - weight / heaviest in
    fixed point: rounding down keeps the order, but may make close weights
    equal), then row - and the keys are sorted. Where rounding made two
    different weights of one model equal, the exact two-key sort decides.
    """
    rows = len(weights)
    heaviest = float(weights.max()) if rows else 0.0
    if heaviest <= 0.0:
        return np.lexsort((-weights, model))
    row_bits, model_bits = max(rows - 1, 1).bit_length(), max(buckets - 1, 1).bit_length()
    # (at most 52: a float64 holds the scale exactly, so lightness never overflows its field)
    light_bits = min(63 - model_bits - row_bits, 52)
    light = ((1.0 - weights / heaviest) * float((1 << light_bits) - 1)).astype(np.int64)
    keys = (model.astype(np.int64) << (light_bits + row_bits)) | (light << row_bits)
    keys |= np.arange(rows)
    keys.sort()
    ranked: IntArray = keys & ((1 << row_bits) - 1)
    same = keys[1:] >> row_bits == keys[:-1] >> row_bits
    if same.any():
        w = weights[ranked]
        if (same & (w[1:] != w[:-1])).any():
            ranked = np.lexsort((-weights, model))
    return ranked
