"""Reads a catalog file: the packaged snapshot or a user's own file.

Both use one JSON format (scripts/build_catalog.py writes it):

    {
      "catalog_version": "2026-11-22.3f9c0d1e2a",   optional; derived from content if absent
      "refreshed_at": "2026-11-22T23:50:00Z",       when prices were fetched; null = unknown
      "stale_after_days": 30,                       staleness window; null = never stale
      "models": [
        {"model_id": "...", "provider": "...", "input_cost_per_mtok": 0.25,
         "output_cost_per_mtok": 1.5, "context_window": 1048576,
         # optional:
         "display_name", "cache_read_cost_per_mtok", "supports_prompt_caching",
         "max_output_tokens", "capability_priors": {"intelligence_index": 0.34},
         "capability_by_task_type": {"code": 0.62, ...},
         "capability_by_task_difficulty": {"code": {"trivial": 0.9, ...}, ...},
         "output_token_multiplier": 1.0, "cost_source", "cost_fetched_at",
         "capability_source"}
      ]
    }

A model without per-difficulty priors gets them derived from its per-type
prior (minima_grpc.catalog.priors); task types it does not mention fall back
to its "other" prior, then its intelligence_index, then 0.5.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from minima_grpc.catalog.model import Catalog, CatalogEntry
from minima_grpc.catalog.priors import by_difficulty
from minima_grpc.engine.types import Difficulty, ModelCard, TaskType

DEFAULT_STALE_AFTER_DAYS = 30.0
PACKAGED_SOURCE = "packaged"


class CatalogError(ValueError):
    """The catalog file is missing or malformed; the message says where."""


def packaged_catalog_path() -> Path:
    return Path(str(resources.files("minima_grpc.catalog") / "data" / "catalog.json"))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The user's catalog at `path`, or the packaged snapshot when None."""
    source = PACKAGED_SOURCE if path is None else str(path)
    file = packaged_catalog_path() if path is None else Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"catalog file not found: {file}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"catalog file {file} is not readable JSON: {exc}") from exc
    return parse_catalog(raw, source=source)


def content_hash(models: list[Any]) -> str:
    """Stable hash of the model list; the version changes when content does."""
    canonical = json.dumps(models, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_catalog(raw: Any, *, source: str) -> Catalog:
    doc = _mapping(raw, "catalog")
    models = doc.get("models")
    if not isinstance(models, list) or not models:
        raise CatalogError("catalog: 'models' must be a non-empty list")
    refreshed_at = _optional_time(doc.get("refreshed_at"), "refreshed_at")
    stale_days = doc.get("stale_after_days", DEFAULT_STALE_AFTER_DAYS)
    if stale_days is not None:
        stale_days = _number(stale_days, "stale_after_days", minimum=0.0)
    entries = tuple(_entry(m, i, refreshed_at) for i, m in enumerate(models))
    ids = [e.model_id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"catalog: duplicate model ids {duplicates}")
    version = doc.get("catalog_version")
    if version is None:
        version = f"user-{content_hash(models)[:12]}"
    elif not isinstance(version, str) or not version:
        raise CatalogError("catalog: 'catalog_version' must be a non-empty string")
    return Catalog(
        version=version,
        refreshed_at=refreshed_at,
        stale_after=None if stale_days is None else timedelta(days=stale_days),
        entries=entries,
        source=source,
    )


def _entry(raw: Any, index: int, refreshed_at: datetime | None) -> CatalogEntry:
    where = f"models[{index}]"
    m = _mapping(raw, where)
    model_id = _text(m.get("model_id"), f"{where}.model_id")
    where = f"model {model_id!r}"
    input_price = _number(m.get("input_cost_per_mtok"), f"{where}.input_cost_per_mtok", 0.0)
    output_price = _number(m.get("output_cost_per_mtok"), f"{where}.output_cost_per_mtok", 0.0)
    cache_raw = m.get("cache_read_cost_per_mtok")
    cache_price = (
        None if cache_raw is None else _number(cache_raw, f"{where}.cache_read_cost_per_mtok", 0.0)
    )
    caching = m.get("supports_prompt_caching", cache_price is not None)
    if not isinstance(caching, bool):
        raise CatalogError(f"{where}.supports_prompt_caching must be true or false")
    context = _integer(m.get("context_window"), f"{where}.context_window", minimum=1)
    max_out_raw = m.get("max_output_tokens")
    max_out = None if max_out_raw is None else _integer(max_out_raw, f"{where}.max_output_tokens")
    summary = _probabilities(m.get("capability_priors", {}), f"{where}.capability_priors")
    by_type = _typed_probabilities(m.get("capability_by_task_type", {}), where)
    priors = _difficulty_priors(m.get("capability_by_task_difficulty"), by_type, where)
    card = ModelCard(
        model_id=model_id,
        provider=_text(m.get("provider"), f"{where}.provider").lower(),
        display_name=_text(m.get("display_name", model_id), f"{where}.display_name"),
        input_cost_per_mtok=input_price,
        output_cost_per_mtok=output_price,
        cache_read_cost_per_mtok=cache_price,
        supports_prompt_caching=caching,
        context_window=context,
        max_output_tokens=max_out,
        capability_priors=summary,
        capability_by_task_type={t.value: p for t, p in by_type.items()},
        cost_source=_text(m.get("cost_source", "user-catalog"), f"{where}.cost_source"),
        cost_fetched_at=_optional_time(m.get("cost_fetched_at"), f"{where}.cost_fetched_at")
        or refreshed_at,
        cost_stale=False,
        capability_source=_text(
            m.get("capability_source", "user-catalog"), f"{where}.capability_source"
        ),
    )
    multiplier = _number(
        m.get("output_token_multiplier", 1.0), f"{where}.output_token_multiplier", 0.0
    )
    return CatalogEntry(card=card, priors=priors, output_token_multiplier=multiplier)


def _difficulty_priors(
    raw: Any, by_type: Mapping[TaskType, float], where: str
) -> dict[TaskType, dict[Difficulty, float]]:
    priors = {t: by_difficulty(p) for t, p in by_type.items()}
    if raw is None:
        return priors
    for key, levels in _mapping(raw, f"{where}.capability_by_task_difficulty").items():
        task_type = _task_type(key, f"{where}.capability_by_task_difficulty")
        given = _mapping(levels, f"{where}.capability_by_task_difficulty.{key}")
        missing = [d.value for d in Difficulty if d.value not in given]
        if missing:
            raise CatalogError(
                f"{where}.capability_by_task_difficulty.{key} lacks difficulties {missing}"
            )
        priors[task_type] = {
            d: _number(given[d.value], f"{where}.capability_by_task_difficulty.{key}", 0.0, 1.0)
            for d in Difficulty
        }
    return priors


def _typed_probabilities(raw: Any, where: str) -> dict[TaskType, float]:
    values = _probabilities(raw, f"{where}.capability_by_task_type")
    return {_task_type(k, f"{where}.capability_by_task_type"): p for k, p in values.items()}


def _task_type(key: str, where: str) -> TaskType:
    try:
        return TaskType(key)
    except ValueError:
        known = ", ".join(t.value for t in TaskType)
        raise CatalogError(f"{where}: unknown task type {key!r} (known: {known})") from None


def _probabilities(raw: Any, where: str) -> dict[str, float]:
    return {str(k): _number(v, f"{where}.{k}", 0.0, 1.0) for k, v in _mapping(raw, where).items()}


def _mapping(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where} must be a JSON object")
    return raw


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CatalogError(f"{where} must be a non-empty string")
    return raw.strip()


def _number(
    raw: Any, where: str, minimum: float | None = None, maximum: float | None = None
) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise CatalogError(f"{where} must be a finite number")
    value = float(raw)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise CatalogError(f"{where} must be within [{minimum}, {maximum}], got {value}")
    return value


def _integer(raw: Any, where: str, minimum: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise CatalogError(f"{where} must be an integer >= {minimum}")
    return raw


def _optional_time(raw: Any, where: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise CatalogError(f"{where} must be an ISO-8601 timestamp")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CatalogError(f"{where} must be an ISO-8601 timestamp: {exc}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
