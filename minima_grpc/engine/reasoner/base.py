"""The reasoner seam: a cheap LLM asked for a second opinion when evidence is
thin. Provider adapters only move text; prompt and parsing live here, so every
provider is asked the same bounded question and judged the same way."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from minima_grpc.engine.types import Difficulty, TaskType

# Bounds on what is sent: the reasoner sees an excerpt, never a whole document.
TASK_EXCERPT_CHARS = 1500
MAX_OUTPUT_TOKENS = 400

SYSTEM_PROMPT = (
    "You help route an LLM task to the cheapest model that will do it well. "
    "Given the task and candidate models with their current predicted success "
    "probabilities, reply with ONE JSON object and nothing else: "
    '{"task_type": <one of the allowed task types or null>, '
    '"difficulty": <one of the allowed difficulties or null>, '
    '"success": {<model_id>: <probability 0..1 that this model completes the task well>}}. '
    "Only include models from the list. Set task_type/difficulty only if the "
    "given classification looks wrong."
)


_Label = TypeVar("_Label", TaskType, Difficulty)


class ReasonerError(Exception):
    """The reasoner failed or answered something unusable."""


@dataclass(frozen=True, slots=True)
class CandidateView:
    model_id: str
    provider: str
    predicted_success: float
    est_cost_usd: float
    evidence_weight: float


@dataclass(frozen=True, slots=True)
class ReasonerBrief:
    task_excerpt: str
    task_type: TaskType
    difficulty: Difficulty
    classification_is_ambiguous: bool
    threshold: float
    reasons: tuple[str, ...]
    candidates: tuple[CandidateView, ...]


@dataclass(frozen=True, slots=True)
class ReasonerAdvice:
    task_type: TaskType | None
    difficulty: Difficulty | None
    success: dict[str, float]


class Reasoner(Protocol):
    """Raises ReasonerError (or anything else) on failure; the engine then
    keeps its deterministic result."""

    async def advise(self, brief: ReasonerBrief) -> ReasonerAdvice: ...


def excerpt(text: str) -> str:
    return text if len(text) <= TASK_EXCERPT_CHARS else text[:TASK_EXCERPT_CHARS] + " [...]"


def user_message(brief: ReasonerBrief) -> str:
    payload = {
        "task": brief.task_excerpt,
        "classification": {
            "task_type": brief.task_type.value,
            "difficulty": brief.difficulty.value,
            "ambiguous": brief.classification_is_ambiguous,
        },
        "allowed_task_types": [t.value for t in TaskType],
        "allowed_difficulties": [d.value for d in Difficulty],
        "quality_threshold": round(brief.threshold, 3),
        "why_asked": list(brief.reasons),
        "candidates": [
            {
                "model_id": c.model_id,
                "provider": c.provider,
                "predicted_success": round(c.predicted_success, 3),
                "est_cost_usd": round(c.est_cost_usd, 6),
                "evidence_weight": round(c.evidence_weight, 2),
            }
            for c in brief.candidates
        ],
    }
    return json.dumps(payload)


def parse_advice(text: str, model_ids: Sequence[str]) -> ReasonerAdvice:
    """The JSON object in the reply; anything unusable raises ReasonerError."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ReasonerError("reasoner reply holds no JSON object")
    try:
        doc = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ReasonerError(f"reasoner reply is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ReasonerError("reasoner reply is not a JSON object")
    known = set(model_ids)
    raw_success = doc.get("success")
    success = {
        str(m): float(v)
        for m, v in (raw_success.items() if isinstance(raw_success, dict) else ())
        if m in known and _is_probability(v)
    }
    advice = ReasonerAdvice(
        task_type=_enum(TaskType, doc.get("task_type")),
        difficulty=_enum(Difficulty, doc.get("difficulty")),
        success=success,
    )
    if not success and advice.task_type is None and advice.difficulty is None:
        raise ReasonerError("reasoner reply has no usable judgement")
    return advice


def _is_probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


def _enum(kind: type[_Label], value: Any) -> _Label | None:
    try:
        return kind(value) if isinstance(value, str) else None
    except ValueError:
        return None
