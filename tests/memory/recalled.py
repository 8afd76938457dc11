"""Recall answers with columns (`Neighbours`); these read them back row by row."""

from __future__ import annotations

import math
from typing import Any

from minima_grpc.memory.protocol import Neighbours, OutcomeRecord

Row = dict[str, Any]


def _known(value: float) -> float | None:
    return None if math.isnan(value) else value


def recorded(n: Neighbours, i: int) -> Row:
    """What row i says about the outcome record it was recalled from."""
    return {
        "model_id": n.model_ids[int(n.model[i])],
        "quality": float(n.quality[i]),
        "recorded_at": float(n.recorded_at[i]),
        "seeded": bool(n.seeded[i]),
        "cost_usd": _known(float(n.cost_usd[i])),
        "output_tokens": _known(float(n.output_tokens[i])),
    }


def written(record: OutcomeRecord) -> Row:
    """The same fields, from the record as it was written."""
    return {
        "model_id": record.model_id,
        "quality": record.quality,
        "recorded_at": record.recorded_at.timestamp(),
        "seeded": record.source.startswith("seed"),
        "cost_usd": record.cost_usd,
        "output_tokens": record.output_tokens,
    }


def rows(n: Neighbours) -> list[Row]:
    """Every row with every column, in recall order."""
    return [
        {
            "entry_id": n.entry_ids[i],
            "reference_id": n.reference_ids[i],
            "similarity": float(n.similarity[i]),
            "knowledge_confidence": float(n.knowledge_confidence[i]),
            "is_stale": bool(n.is_stale[i]),
            **recorded(n, i),
        }
        for i in range(len(n))
    ]
