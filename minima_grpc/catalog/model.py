"""The loaded catalog: model cards, their priors, and staleness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from minima_grpc.engine.types import Difficulty, ModelCard, ModelsQuery, TaskType

# Prior used when a card says nothing about a task type (user catalogs may be sparse).
NEUTRAL_PRIOR = 0.5


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One model: its public card plus what the engine needs beyond it."""

    card: ModelCard
    # task type -> difficulty -> prior probability of success
    priors: Mapping[TaskType, Mapping[Difficulty, float]]
    # Hidden reasoning tokens billed as output, as a multiple of the visible answer.
    output_token_multiplier: float = 1.0
    # The card's, as a field: a recommendation reads it about four times per
    # candidate, and a property costs a call each time.
    model_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_id", self.card.model_id)

    def prior(
        self, task_type: TaskType, difficulty: Difficulty, unknown: float = NEUTRAL_PRIOR
    ) -> float:
        """The card's prior for this kind of task; `unknown` when the card has none."""
        by_type = self.priors.get(task_type) or self.priors.get(TaskType.OTHER)
        if by_type is not None:
            return by_type[difficulty]
        return self.card.capability_priors.get("intelligence_index", unknown)

    @property
    def max_price_per_mtok(self) -> float:
        return max(self.card.input_cost_per_mtok, self.card.output_cost_per_mtok)


@dataclass(frozen=True, slots=True)
class Catalog:
    version: str
    refreshed_at: datetime | None
    # Prices older than this are stale; None disables staleness (user's choice).
    stale_after: timedelta | None
    entries: tuple[CatalogEntry, ...]
    # Where the file came from: "packaged" or the user's path.
    source: str
    _by_id: dict[str, CatalogEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.model_id: e for e in self.entries})

    def get(self, model_id: str) -> CatalogEntry | None:
        return self._by_id.get(model_id)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def is_stale(self, now: datetime) -> bool:
        """A snapshot without a refresh time cannot vouch for its prices."""
        if self.stale_after is None:
            return False
        if self.refreshed_at is None:
            return True
        return now - self.refreshed_at > self.stale_after

    def card_is_stale(self, card: ModelCard, now: datetime) -> bool:
        if self.stale_after is None:
            return False
        if card.cost_fetched_at is None:
            return True
        return now - card.cost_fetched_at > self.stale_after

    def cards(self, query: ModelsQuery, now: datetime) -> tuple[ModelCard, ...]:
        """Cards matching the ListModels filters, sorted by input price; each
        card's cost_stale is evaluated at `now`."""
        selected = list(self.entries)
        if query.provider:
            wanted = query.provider.casefold()
            selected = [e for e in selected if e.card.provider.casefold() == wanted]
        if query.task_type is not None:
            key = query.task_type.value
            selected = [e for e in selected if key in e.card.capability_by_task_type]
        if query.max_cost is not None:
            limit = query.max_cost
            selected = [e for e in selected if e.max_price_per_mtok <= limit]
        cards = [_with_staleness(e.card, self.card_is_stale(e.card, now)) for e in selected]
        if query.include_stale is False:
            # "Prefer fresh": drop stale cards only when a fresh one is left.
            fresh = [c for c in cards if not c.cost_stale]
            cards = fresh or cards
        cards.sort(key=lambda c: (c.input_cost_per_mtok, c.output_cost_per_mtok, c.model_id))
        return tuple(cards)


def _with_staleness(card: ModelCard, stale: bool) -> ModelCard:
    return card if card.cost_stale == stale else replace(card, cost_stale=stale)
