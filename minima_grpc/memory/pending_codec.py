"""PendingRecommendation <-> a JSON object: the form both backends store it in
(a compressed blob in the embedded SQLite file, metadata in Mubit)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from minima_grpc.engine.types import Difficulty, TaskType
from minima_grpc.memory.protocol import NeighbourLabels, PendingRecommendation


def encode_pending(pending: PendingRecommendation) -> dict[str, Any]:
    return {
        "recommendation_id": pending.recommendation_id,
        "task_text": pending.task_text,
        "task_type": pending.task_type.value,
        "difficulty": pending.difficulty.value,
        "tags": list(pending.tags),
        "recommended_model_id": pending.recommended_model_id,
        "evidence": {
            m: {"entry_ids": list(kept.entry_ids), "quality": list(kept.quality)}
            for m, kept in pending.evidence.items()
        },
        "est_costs": dict(pending.est_costs),
        "created_at": pending.created_at.isoformat(),
        "namespace": pending.namespace,
        "user_id": pending.user_id,
    }


def decode_pending(raw: object) -> PendingRecommendation | None:
    """The stored recommendation, or None when the object is not one we wrote."""
    if not isinstance(raw, Mapping):
        return None
    created_at = parse_timestamp(raw.get("created_at"))
    if created_at is None:
        return None
    try:
        return PendingRecommendation(
            recommendation_id=str(raw["recommendation_id"]),
            task_text=str(raw["task_text"]),
            task_type=TaskType(raw["task_type"]),
            difficulty=Difficulty(raw["difficulty"]),
            tags=tuple(str(t) for t in raw.get("tags", ())),
            recommended_model_id=str(raw["recommended_model_id"]),
            evidence=_decode_evidence(raw),
            est_costs={str(m): float(c) for m, c in dict(raw.get("est_costs", {})).items()},
            created_at=created_at,
            namespace=_optional_str(raw.get("namespace")),
            user_id=_optional_str(raw.get("user_id")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _decode_evidence(raw: Mapping[str, Any]) -> dict[str, NeighbourLabels]:
    if "evidence" in raw:
        return {
            str(m): NeighbourLabels(
                tuple(str(e) for e in kept["entry_ids"]), tuple(float(q) for q in kept["quality"])
            )
            for m, kept in dict(raw["evidence"]).items()
            if len(kept["entry_ids"]) == len(kept["quality"])
        }
    # Written before the labels moved next to their ids (a recommendation lives
    # for days): ids per model, labels per id; an unlabelled id is never credited.
    labels = {str(e): float(q) for e, q in dict(raw.get("evidence_quality", {})).items()}
    evidence = {}
    for m, ids in dict(raw.get("evidence_by_model", {})).items():
        labelled = [str(e) for e in ids if str(e) in labels]
        evidence[str(m)] = NeighbourLabels(tuple(labelled), tuple(labels[e] for e in labelled))
    return evidence


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 string as an aware datetime (naive means UTC); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
