"""Builders for domain objects used across engine tests (plain data, no doubles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from minima_grpc.catalog import Catalog, CatalogEntry
from minima_grpc.catalog.loader import parse_catalog
from minima_grpc.engine.types import Difficulty, Outcome, TaskType
from minima_grpc.memory.protocol import Neighbours, OutcomeRecord, RecalledOutcome

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def outcome(
    model_id: str,
    quality: float,
    *,
    entry_id: str,
    similarity: float = 0.85,
    knowledge_confidence: float = 0.7,
    age_days: float = 0.0,
    is_stale: bool = False,
    source: str = "feedback",
    cost_usd: float | None = None,
    output_tokens: int | None = None,
    text: str = "a past task",
) -> RecalledOutcome:
    record = OutcomeRecord(
        task_text=text,
        task_type=TaskType.QA,
        difficulty=Difficulty.MEDIUM,
        model_id=model_id,
        outcome=Outcome.SUCCESS if quality >= 0.5 else Outcome.FAILURE,
        quality=quality,
        recorded_at=NOW - timedelta(days=age_days),
        output_tokens=output_tokens,
        cost_usd=cost_usd,
        source=source,
    )
    return RecalledOutcome(entry_id, None, similarity, knowledge_confidence, is_stale, record)


def neighbours(*outcomes: RecalledOutcome) -> Neighbours:
    """A recall's answer holding these outcomes, in this order."""
    return Neighbours.from_outcomes(outcomes)


def model(model_id: str, input_price: float, output_price: float, **extra: Any) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "provider": extra.pop("provider", "acme"),
        "input_cost_per_mtok": input_price,
        "output_cost_per_mtok": output_price,
        "context_window": extra.pop("context_window", 128_000),
        **extra,
    }


def small_catalog(*models: dict[str, Any], refreshed_at: datetime = NOW) -> Catalog:
    doc = {
        "refreshed_at": refreshed_at.isoformat(),
        "catalog_version": "test-1",
        "models": list(models),
    }
    return parse_catalog(doc, source="test")


def entry(catalog: Catalog, model_id: str) -> CatalogEntry:
    found = catalog.get(model_id)
    assert found is not None
    return found
