"""What one recommendation flows through: the plan, the scored candidates and
the pick. Pure functions; no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from minima_grpc.catalog import CatalogEntry
from minima_grpc.engine.aggregate import ModelEvidence
from minima_grpc.engine.classify import Classification
from minima_grpc.engine.cost import CostBasis, choose_basis, expected_tokens, price
from minima_grpc.engine.predict import Candidate, pooled_success, predict
from minima_grpc.engine.select import Selection, select
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import RecommendRequest

_T = TypeVar("_T")


def or_default(value: _T | None, default: _T) -> _T:
    """The caller's value, or the default when the caller left it unset."""
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated request with its classification and eligible models."""

    request: RecommendRequest
    classification: Classification
    candidates: tuple[CatalogEntry, ...]
    # Whitespace-collapsed, bounded task text: the recall query and the stored outcome text.
    text: str


@dataclass(frozen=True, slots=True)
class Scored:
    """Every candidate priced and predicted under one classification."""

    classification: Classification
    candidates: tuple[Candidate, ...]
    basis: CostBasis


@dataclass(frozen=True, slots=True)
class Decision:
    scored: Scored
    selection: Selection
    # max_cost_per_call removed every candidate and was relaxed for ranking
    over_budget: bool


def score(
    plan: Plan,
    cls: Classification,
    evidence: Mapping[str, ModelEvidence],
    settings: EngineSettings,
) -> Scored:
    caching = bool(plan.request.constraints.require_prompt_caching)
    tokens = expected_tokens(plan.request.task, cls.task_type, cls.difficulty)
    basis = choose_basis(plan.candidates, evidence, caching, settings.observed_min_samples)
    unknown = pooled_success(evidence.values(), settings.pooled_prior_min_weight)
    task_type, difficulty = cls.task_type, cls.difficulty
    cached_share, pseudocount = settings.cached_input_share, settings.pseudocount
    candidates = []
    for entry in plan.candidates:
        found = evidence.get(entry.model_id)
        cost = price(entry, basis, tokens, found, caching, cached_share)
        prior = entry.prior(task_type, difficulty, unknown)
        candidates.append(predict(entry, prior, found, cost, pseudocount))
    return Scored(cls, tuple(candidates), basis)


def decide(request: RecommendRequest, scored: Scored, settings: EngineSettings) -> Decision:
    """Apply the cost budget, then pick by the slider (engine/select.py).
    A budget nothing meets is relaxed."""
    pool = scored.candidates
    budget = request.constraints.max_cost_per_call
    within = pool if budget is None else tuple(c for c in pool if c.cost <= budget)
    chosen = within or pool
    tradeoff = or_default(request.cost_quality_tradeoff, settings.default_tradeoff)
    selection = select(chosen, tradeoff, request.constraints.min_quality, settings)
    return Decision(scored, selection, not within)
