"""Domain records <-> the JSON Mubit stores and returns.

Outcome records travel as the entry text (the task, which Mubit embeds) plus
a flat `metadata_json` tagged `kind: outcome`. Parsing is defensive: Mubit's
HTTP answers are untyped JSON and its gRPC answers omit default values and
render 64-bit ints as strings, so every field is read with a fallback and an
entry that cannot be understood is skipped, never fatal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from minima_grpc.engine.types import Difficulty, Outcome, Strategy, TaskType
from minima_grpc.memory.pending_codec import parse_timestamp
from minima_grpc.memory.protocol import OutcomeRecord, RecalledOutcome

OUTCOME_KIND = "outcome"
LESSON_KIND = "lesson"
# Mubit does not always report reliability; absent means "no opinion".
NEUTRAL_CONFIDENCE = 0.5


def outcome_metadata(record: OutcomeRecord) -> dict[str, Any]:
    """The metadata stored with an outcome entry (everything but the task text)."""
    return {
        "kind": OUTCOME_KIND,
        "schema": 1,
        "task_type": record.task_type.value,
        "difficulty": record.difficulty.value,
        "task_cluster": f"{record.task_type.value}:{record.difficulty.value}",
        "model_id": record.model_id,
        "outcome": record.outcome.value,
        "quality": record.quality,
        "recorded_at": record.recorded_at.isoformat(),
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cost_usd": record.cost_usd,
        "latency_ms": record.latency_ms,
        "verified_in_production": record.verified_in_production,
        "source": record.source,
        "recommendation_id": record.recommendation_id,
        "tags": list(record.tags),
        "idempotency_key": record.idempotency_key,
    }


def decode_json_object(raw: object) -> dict[str, Any] | None:
    """`metadata_json` arrives as a JSON string over HTTP and may be a dict."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str) and raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


def _opt_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def _opt_float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def outcome_from_metadata(text: str, meta: Mapping[str, Any]) -> OutcomeRecord | None:
    """Rebuild an OutcomeRecord; None when the entry is not a readable outcome."""
    if meta.get("kind") != OUTCOME_KIND:
        return None
    model_id = meta.get("model_id")
    quality = _opt_float(meta.get("quality"))
    recorded_at = parse_timestamp(meta.get("recorded_at"))
    if not isinstance(model_id, str) or not model_id or quality is None or recorded_at is None:
        return None
    try:
        task_type = TaskType(str(meta.get("task_type")))
        difficulty = Difficulty(str(meta.get("difficulty")))
        outcome = Outcome(str(meta.get("outcome")))
    except ValueError:
        return None
    tags = meta.get("tags")
    rec_id = meta.get("recommendation_id")
    idem = meta.get("idempotency_key")
    source = meta.get("source")
    return OutcomeRecord(
        task_text=text,
        task_type=task_type,
        difficulty=difficulty,
        model_id=model_id,
        outcome=outcome,
        quality=quality,
        recorded_at=recorded_at,
        input_tokens=_opt_int(meta.get("input_tokens")),
        output_tokens=_opt_int(meta.get("output_tokens")),
        cost_usd=_opt_float(meta.get("cost_usd")),
        latency_ms=_opt_int(meta.get("latency_ms")),
        verified_in_production=meta.get("verified_in_production") is True,
        source=source if isinstance(source, str) and source else "feedback",
        recommendation_id=rec_id if isinstance(rec_id, str) and rec_id else None,
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        idempotency_key=idem if isinstance(idem, str) and idem else None,
    )


def recalled_from_evidence(item: object) -> RecalledOutcome | None:
    """One `QueryEvidence` -> RecalledOutcome; None for non-outcome or broken rows."""
    if not isinstance(item, Mapping):
        return None
    entry_id = item.get("id")
    if entry_id is None or entry_id == "":
        return None
    meta = decode_json_object(item.get("metadata_json"))
    content = item.get("content")
    if meta is None or not isinstance(content, str):
        return None
    record = outcome_from_metadata(content, meta)
    if record is None:
        return None
    score = _opt_float(item.get("score"))
    confidence = _opt_float(item.get("knowledge_confidence"))
    reference = item.get("reference_id")
    return RecalledOutcome(
        entry_id=str(entry_id),
        reference_id=str(reference) if reference else None,
        similarity=min(1.0, max(-1.0, score if score is not None else 0.0)),
        knowledge_confidence=min(
            1.0, max(0.0, confidence if confidence is not None else NEUTRAL_CONFIDENCE)
        ),
        is_stale=item.get("is_stale") is True or bool(item.get("superseded_by")),
        record=record,
    )


def evidence_list(response: object) -> list[object] | None:
    """The `evidence` array of a query answer; None when the answer is malformed."""
    if not isinstance(response, Mapping):
        return None
    evidence = response.get("evidence", [])
    return evidence if isinstance(evidence, list) else None


def ingest_record_id(job: object) -> str | None:
    """The record id of the first write of an ingest job (`traces[0].writes[0]`)."""
    if not isinstance(job, Mapping):
        return None
    for trace in job.get("traces") or ():
        if not isinstance(trace, Mapping):
            continue
        for write in trace.get("writes") or ():
            if isinstance(write, Mapping) and write.get("record_id"):
                return str(write["record_id"])
    return None


def _field(raw: Mapping[str, Any], snake: str) -> Any:
    """Strategies arrive snake_case over the wire, camelCase from some proxies."""
    head, *rest = snake.split("_")
    camel = head + "".join(part.title() for part in rest)
    return raw.get(snake, raw.get(camel))


def strategy_from_wire(raw: object) -> Strategy | None:
    if not isinstance(raw, Mapping):
        return None
    strategy_id = _field(raw, "strategy_id")
    description = _field(raw, "description")
    if not strategy_id or not isinstance(description, str):
        return None
    lesson_ids = _field(raw, "lesson_ids")
    return Strategy(
        strategy_id=str(strategy_id),
        description=description,
        supporting_lesson_count=_opt_int(_field(raw, "supporting_lesson_count")) or 0,
        avg_confidence=_opt_float(_field(raw, "avg_confidence")) or 0.0,
        avg_reinforcement=_opt_float(_field(raw, "avg_reinforcement")) or 0.0,
        dominant_lesson_type=str(_field(raw, "dominant_lesson_type") or ""),
        dominant_scope=str(_field(raw, "dominant_scope") or ""),
        lesson_ids=tuple(str(i) for i in lesson_ids) if isinstance(lesson_ids, list) else (),
    )
