"""Prices for turning captured token counts into USD.

Sources, later ones winning: the Minima catalog (`/v1/models`, loaded when a
Minima client is attached) and the prices the caller passes to `enable()`.
There is no built-in table: a stale price is worse than none, and a call
whose model has no price is reported without a cost.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..models import ModelCard

# Date-stamped snapshots ("gpt-4o-mini-2024-07-18", "claude-haiku-4-5-20251001")
# and "-latest" aliases name the same model as the bare id.
_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens; `cache_read` defaults to the input price."""

    input: float
    output: float
    cache_read: float | None = None


def _candidates(model: str) -> Iterable[str]:
    name = model.strip().lower()
    yield name
    bare = name.rpartition("/")[2]  # "openai/gpt-4o-mini", "anthropic/claude-..."
    yield bare
    yield _SNAPSHOT.sub("", bare)


class PriceBook:
    """Model id -> price, with lookups tolerant of provider prefixes and snapshots."""

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        self._lock = threading.Lock()
        self._catalog: dict[str, ModelPrice] = {}
        self._given = {k.lower(): v for k, v in (prices or {}).items()}
        self.catalog_loaded = False

    def load_catalog(self, cards: Iterable[ModelCard]) -> None:
        with self._lock:
            self._catalog = {
                c.model_id.lower(): ModelPrice(
                    c.input_cost_per_mtok, c.output_cost_per_mtok, c.cache_read_cost_per_mtok
                )
                for c in cards
            }
            self.catalog_loaded = True

    def catalog_id(self, model: str) -> str | None:
        """The catalog's id for `model`, when the catalog knows it."""
        with self._lock:
            return next((c for c in _candidates(model) if c in self._catalog), None)

    def price(self, model: str) -> ModelPrice | None:
        with self._lock:
            for name in _candidates(model):
                found = self._given.get(name) or self._catalog.get(name)
                if found is not None:
                    return found
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int, cached: int) -> float | None:
        """USD for one call; `cached` input tokens are billed at the cache-read price."""
        price = self.price(model)
        if price is None:
            return None
        cache_price = price.input if price.cache_read is None else price.cache_read
        uncached = max(0, input_tokens - cached)
        total = uncached * price.input + cached * cache_price + output_tokens * price.output
        return round(total / 1e6, 10)
