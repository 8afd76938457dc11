"""Predicted success: the catalog prior blended with recalled evidence.

Beta-style: the prior counts as `pseudocount` pseudo-observations, each
weighted neighbour as `weight` observations of its recorded quality:

    p = (WS + k * prior) / (W + k)        confidence = W / (W + k)

Confidence is the share of the prediction that rests on evidence: 0 at cold
start, 0.5 once the evidence weighs as much as the prior.

A model the catalog has no prior for (a user's own deployment) starts from the
pooled success of every model on the recalled tasks - how models fare on tasks
like this one - rather than a flat 0.5, which would understate a strong model
until it had piled up evidence and overstate a weak one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from minima_grpc.catalog import CatalogEntry
from minima_grpc.catalog.model import NEUTRAL_PRIOR
from minima_grpc.engine.aggregate import ModelEvidence
from minima_grpc.engine.cost import Price
from minima_grpc.engine.types import DecisionBasis

# Bound once for predict(), which runs for every candidate: Python 3.11 reads
# an enum member through the enum metaclass's __getattr__ hook, ~6x slower.
_MEMORY, _PRIOR = DecisionBasis.MEMORY, DecisionBasis.PRIOR


class Candidate(NamedTuple):
    """A candidate model with everything the pick and the response need.
    A NamedTuple: every candidate is built anew for each recommendation (and
    again when exploration or the reasoner revises its prediction)."""

    # The entry's, at hand: candidates are looked up and ordered by it.
    model_id: str
    entry: CatalogEntry
    prior: float
    predicted_success: float
    confidence: float
    basis: DecisionBasis
    price: Price
    # price.usd, as a field: the pick, the ranking and the response read it
    # over a hundred times per recommendation.
    cost: float
    evidence: ModelEvidence | None


_make = Candidate._make


def pooled_success(evidence: Iterable[ModelEvidence], min_weight: float) -> float:
    """Weighted success over every model's neighbours; neutral when too thin."""
    found = list(evidence)
    weight = sum(e.weight for e in found)
    if weight < min_weight:
        return NEUTRAL_PRIOR
    return sum(e.success_mass for e in found) / weight


def predict(
    entry: CatalogEntry,
    prior: float,
    evidence: ModelEvidence | None,
    price: Price,
    pseudocount: float,
) -> Candidate:
    """The candidate with its predicted success and confidence, from its
    prior and its evidence, if any. (The blend is written out here and the
    tuple built by _make: this runs for every candidate, and a helper call
    plus the NamedTuple's own __new__ cost twice as much.)"""
    if evidence is None or evidence.weight <= 0.0:
        return _make((entry.model_id, entry, prior, prior, 0.0, _PRIOR, price, price.usd, evidence))
    w = evidence.weight
    p = (evidence.success_mass + pseudocount * prior) / (w + pseudocount)
    p = min(p, 1.0) if p >= 0.0 else 0.0  # (NaN -> 0)
    confidence = w / (w + pseudocount)
    return _make((entry.model_id, entry, prior, p, confidence, _MEMORY, price, price.usd, evidence))
