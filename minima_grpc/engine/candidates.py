"""Hard constraints on the candidate set. Nothing here looks at cost or
priors: every model that satisfies the constraints is scored, so cheap models
are never cut before their cost is known."""

from __future__ import annotations

from minima_grpc.catalog import Catalog, CatalogEntry
from minima_grpc.engine.errors import NoCandidateModels
from minima_grpc.engine.types import Constraints

NO_CANDIDATES = "no models match the supplied constraints"


def eligible_models(catalog: Catalog, c: Constraints) -> tuple[CatalogEntry, ...]:
    """Catalog order; raises NoCandidateModels when nothing is left.
    (max_cost_per_call is applied after pricing; max_latency_ms is a reserved hint.)"""
    entries = list(catalog.entries)
    if c.candidate_models:
        wanted = set(c.candidate_models)
        entries = [e for e in entries if e.model_id in wanted]
    if c.allowed_providers:
        providers = {p.casefold() for p in c.allowed_providers}
        entries = [e for e in entries if e.card.provider.casefold() in providers]
    if c.excluded_models:
        excluded = set(c.excluded_models)
        entries = [e for e in entries if e.model_id not in excluded]
    if c.require_prompt_caching:
        entries = [e for e in entries if e.card.supports_prompt_caching]
    if c.require_context_window is not None:
        needed = c.require_context_window
        entries = [e for e in entries if e.card.context_window >= needed]
    if not entries:
        raise NoCandidateModels(NO_CANDIDATES)
    return tuple(entries)
