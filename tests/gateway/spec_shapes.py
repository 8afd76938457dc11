"""The response tables of shared/spec/api-reference.md, written down as data.

Each schema maps a field to its documented type. Types: "string", "float"
(any JSON number), "int", "bool", "datetime" (RFC 3339 string), "map" (object
of numbers), an enum set, a schema name, or a list of one of those; a trailing
"?" means the spec allows null. Ranges the spec documents are checked too.
ModelCard and the ListModels/ListStrategies envelopes list names only in the
spec; their types follow the proto, and timestamps/optional numbers there are
null when unknown (the gateway's documented mapping).

`violations(value, schema)` returns every way a JSON value breaks a schema:
a missing or extra field, a wrong type, a null where none is allowed, a value
outside a documented enum or range. A strict typed client accepts exactly
what passes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

TASK_TYPES = frozenset(
    {
        "code",
        "summarization",
        "extraction",
        "qa",
        "reasoning",
        "classification",
        "translation",
        "creative",
        "rag",
        "tool_use",
        "other",
    }
)
DIFFICULTIES = frozenset(["trivial", "easy", "medium", "hard", "expert"])
BASES = frozenset({"memory", "prior", "llm"})
HEALTH = frozenset({"ok", "degraded"})

Type = Any  # str | frozenset[str] | list[Type]

SCHEMAS: dict[str, dict[str, Type]] = {
    "RecommendResponse": {
        "recommendation_id": "string",
        "recommended_model": "RankedModel",
        "ranked": ["RankedModel"],
        "fallback_model": "RankedModel?",
        "confidence": "float",
        "decision_basis": BASES,
        "threshold_used": "float",
        "classified_task_type": TASK_TYPES,
        "classified_difficulty": DIFFICULTIES,
        "catalog_version": "string",
        "catalog_stale": "bool",
        "latency_ms": "int",
        "warnings": ["string"],
    },
    "RankedModel": {
        "model_id": "string",
        "provider": "string",
        "predicted_success": "float",
        "est_cost_usd": "float",
        "est_cost_breakdown": "map",
        "score": "float",
        "rationale": "string",
        "decision_basis": BASES,
        "evidence": ["EvidenceRef"],
        "supports_prompt_caching": "bool",
        "context_window": "int",
    },
    "EvidenceRef": {
        "entry_id": "string",
        "reference_id": "string?",
        "model_id": "string",
        "score": "float",
        "knowledge_confidence": "float",
        "observed_success": "float",
        "is_stale": "bool",
    },
    "WorkflowResponse": {
        "workflow_recommendation_id": "string",
        "steps": ["StepRecommendation"],
        "total_est_cost_usd": "float",
        "total_est_cost_if_all_premium": "float",
        "confidence": "float",
    },
    "StepRecommendation": {"step_id": "string", "recommendation": "RecommendResponse"},
    "FeedbackResponse": {
        "accepted": "bool",
        "record_id": "string?",
        "reinforced_entry_ids": ["string"],
        "updated_confidence": "float?",
        "reflection_triggered": "bool",
        "lesson_promoted": "bool",
        "warnings": ["string"],
    },
    "ListModelsResponse": {
        "models": ["ModelCard"],
        "catalog_version": "string",
        "refreshed_at": "datetime?",
        "stale": "bool",
    },
    "ModelCard": {
        "model_id": "string",
        "provider": "string",
        "display_name": "string",
        "input_cost_per_mtok": "float",
        "output_cost_per_mtok": "float",
        "cache_read_cost_per_mtok": "float?",
        "supports_prompt_caching": "bool",
        "context_window": "int",
        "max_output_tokens": "int?",
        "capability_priors": "map",
        "capability_by_task_type": "map",
        "cost_source": "string",
        "cost_fetched_at": "datetime?",
        "cost_stale": "bool",
        "capability_source": "string",
    },
    "ListStrategiesResponse": {
        "namespace": "string?",
        "lane": "string",
        "strategies": ["Strategy"],
        "count": "int",
    },
    "Strategy": {
        "strategy_id": "string",
        "description": "string",
        "supporting_lesson_count": "int",
        "avg_confidence": "float",
        "avg_reinforcement": "float",
        "dominant_lesson_type": "string",
        "dominant_scope": "string",
        "lesson_ids": ["string"],
    },
    "GetHealthResponse": {
        "status": HEALTH,
        "memory": "MemoryHealth",
        "catalog": "CatalogHealth",
        "version": "string",
    },
    "MemoryHealth": {"reachable": "bool?", "latency_ms": "int?"},
    "CatalogHealth": {"version": "string", "stale": "bool", "models": "int"},
    "Problem": {"type": "string", "title": "string", "status": "int", "detail": "string"},
}

# Documented ranges: (schema, field) -> (low, high).
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("RecommendResponse", "confidence"): (0.0, 1.0),
    ("RankedModel", "predicted_success"): (0.0, 1.0),
    ("RankedModel", "est_cost_usd"): (0.0, float("inf")),
    ("EvidenceRef", "knowledge_confidence"): (0.0, 1.0),
    ("EvidenceRef", "observed_success"): (0.0, 1.0),
    ("WorkflowResponse", "confidence"): (0.0, 1.0),
}

# Problem+json may carry extensions (RFC 9457); these are the gateway's.
PROBLEM_EXTENSIONS = frozenset({"request_id", "reason", "field_violations"})


def violations(value: Any, schema: str, path: str = "$") -> list[str]:
    """Every way `value` breaks `schema` (empty when a strict client accepts it)."""
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {value!r}"]
    fields = SCHEMAS[schema]
    allowed = set(fields) | (PROBLEM_EXTENSIONS if schema == "Problem" else set())
    found = [f"{path}.{name}: not in the spec" for name in value if name not in allowed]
    found += [f"{path}.{name}: missing" for name in fields if name not in value]
    for name, kind in fields.items():
        if name in value:
            found += _check(value[name], kind, f"{path}.{name}")
            low, high = RANGES.get((schema, name), (-float("inf"), float("inf")))
            number = value[name]
            if isinstance(number, int | float) and not low <= number <= high:
                found.append(f"{path}.{name}: {number} outside [{low}, {high}]")
    return found


def _check(value: Any, kind: Type, path: str) -> list[str]:
    if isinstance(kind, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        return [
            problem
            for i, item in enumerate(value)
            for problem in _check(item, kind[0], f"{path}[{i}]")
        ]
    if isinstance(kind, frozenset):
        return [] if value in kind else [f"{path}: {value!r} is not one of {sorted(kind)}"]
    nullable = kind.endswith("?")
    kind = kind.removesuffix("?")
    if value is None:
        return [] if nullable else [f"{path}: null is not allowed"]
    if kind in SCHEMAS:
        return violations(value, kind, path)
    return [] if _scalar_ok(value, kind) else [f"{path}: {value!r} is not a {kind}"]


def _scalar_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "map":
        return isinstance(value, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        )
    if kind == "datetime":
        try:
            return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    raise AssertionError(f"unknown kind {kind}")
