"""Past task -> model -> outcome history, and writing it into a namespace.

Two sources: a routing dataset (every model's outcome on every prompt) or a
JSONL file with one outcome per line:

    {"task": "...", "model": "gpt-4o-mini", "outcome": "success",
     "quality": 0.9, "cost_usd": 0.0004, "input_tokens": 812, "output_tokens": 95}

("outcome" or "quality" is required; the rest is optional.)

History is written through the public API, as a caller would: one Recommend
per task (to obtain a recommendation id in the target namespace) and one
SubmitFeedback per outcome, with chosen_model_id set to the model that ran. This
works against any Minima (embedded or Mubit memory, local or remote), keeps the
server the only writer of its store, and goes through the same auth, tenancy,
validation and learning path as live feedback. Every feedback carries an
idempotency key derived from the task and the model, so a re-run adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minima_grpc.evaluation.client import (
    DUPLICATE_WARNING,
    Hints,
    MinimaApi,
    OutcomeName,
    OutcomeReport,
)
from minima_grpc.evaluation.dataset import Sample
from minima_grpc.evaluation.pool import for_each

_OUTCOME_QUALITY: dict[str, float] = {"success": 1.0, "partial": 0.5, "failure": 0.0}


class HistoryError(ValueError):
    """The history file cannot be used; nothing was written."""


@dataclass(frozen=True, slots=True)
class PastOutcome:
    model_id: str
    outcome: OutcomeName
    quality: float | None
    cost_usd: float | None
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class PastTask:
    key: str  # stable across runs: part of every idempotency key
    text: str
    outcomes: tuple[PastOutcome, ...]


@dataclass(frozen=True, slots=True)
class SeedSummary:
    tasks: int
    written: int
    duplicates: int
    rejected: int
    warnings: dict[str, int]


def outcome_of(score: float) -> OutcomeName:
    """Datasets score in [0, 1]; half or better counts as a success."""
    return "success" if score >= 0.5 else "failure"


def sample_key(sample: Sample) -> str:
    digest = hashlib.sha256(sample.prompt.encode()).hexdigest()[:12]
    return f"{sample.sample_id}:{digest}"


def tasks_from_samples(models: Sequence[str], samples: Iterable[Sample]) -> list[PastTask]:
    return [
        PastTask(
            key=sample_key(s),
            text=s.prompt,
            outcomes=tuple(
                PastOutcome(m, outcome_of(score), score, cost)
                for m, score, cost in zip(models, s.scores, s.costs, strict=True)
            ),
        )
        for s in samples
    ]


def load_jsonl(path: Path) -> list[PastTask]:
    """Group the file's outcomes by task text, in order of first appearance."""
    if not path.is_file():
        raise HistoryError(f"{path}: no such file")
    grouped: dict[str, list[PastOutcome]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            text, outcome = _parse_line(f"{path}: line {number}", line)
            grouped.setdefault(text, []).append(outcome)
    if not grouped:
        raise HistoryError(f"{path}: no outcomes")
    return [
        PastTask(hashlib.sha256(text.encode()).hexdigest()[:16], text, tuple(outcomes))
        for text, outcomes in grouped.items()
    ]


def _parse_line(where: str, line: str) -> tuple[str, PastOutcome]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise HistoryError(f"{where}: expected a JSON object")
    text, model = item.get("task"), item.get("model")
    if not isinstance(text, str) or not text.strip():
        raise HistoryError(f"{where}: 'task' must be a non-empty string")
    if not isinstance(model, str) or not model.strip():
        raise HistoryError(f"{where}: 'model' must be a non-empty string")
    quality = _optional_number(item, "quality", where, 0.0, 1.0)
    outcome = item.get("outcome")
    if outcome is None:
        if quality is None:
            raise HistoryError(f"{where}: give 'outcome' (success|partial|failure) or 'quality'")
        outcome = outcome_of(quality)
    if outcome not in _OUTCOME_QUALITY:
        raise HistoryError(f"{where}: 'outcome' must be success, partial or failure")
    return text, PastOutcome(
        model_id=model.strip(),
        outcome=outcome,
        quality=quality,
        cost_usd=_optional_number(item, "cost_usd", where, 0.0, math.inf),
        input_tokens=_optional_count(item, "input_tokens", where),
        output_tokens=_optional_count(item, "output_tokens", where),
    )


def _optional_number(
    item: dict[str, Any], key: str, where: str, low: float, high: float
) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise HistoryError(f"{where}: '{key}' must be a number in [{low}, {high}]")
    return float(value)


def _optional_count(item: dict[str, Any], key: str, where: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HistoryError(f"{where}: '{key}' must be an integer >= 0")
    return value


def unknown_models(tasks: Sequence[PastTask], catalog: Iterable[str]) -> list[str]:
    known = set(catalog)
    return sorted({o.model_id for t in tasks for o in t.outcomes} - known)


async def write_history(
    api: MinimaApi,
    tasks: Sequence[PastTask],
    *,
    namespace: str | None,
    tag: str,
    concurrency: int,
    advance: Callable[[int], object],
) -> SeedSummary:
    """Send every outcome as feedback; `advance(n)` is told of each finished task.

    Tasks go `concurrency` at a time; a task's outcomes are sent one after the
    other so no two writes race on one recommendation.
    """
    counts: Counter[str] = Counter()
    warnings: Counter[str] = Counter()

    async def one(task: PastTask) -> None:
        pick = await api.recommend(task.text, 5.0, namespace, Hints(), max_candidates=1)
        seen: Counter[str] = Counter()
        for past in task.outcomes:
            # A model may appear twice for one task; number the repeats.
            seen[past.model_id] += 1
            key = f"seed:{namespace or ''}:{tag}:{task.key}:{past.model_id}:{seen[past.model_id]}"
            receipt = await api.feedback(_report(pick.recommendation_id, past, key, tag))
            if receipt.duplicate:
                counts["duplicates"] += 1
            else:
                counts["written" if receipt.accepted else "rejected"] += 1
            warnings.update(w for w in receipt.warnings if w != DUPLICATE_WARNING)
        advance(1)

    await for_each(tasks, one, concurrency)
    return SeedSummary(
        tasks=len(tasks),
        written=counts["written"],
        duplicates=counts["duplicates"],
        rejected=counts["rejected"],
        warnings=dict(warnings),
    )


def _report(recommendation_id: str, past: PastOutcome, key: str, tag: str) -> OutcomeReport:
    return OutcomeReport(
        recommendation_id=recommendation_id,
        model_id=past.model_id,
        outcome=past.outcome,
        idempotency_key=key,
        quality=past.quality,
        cost_usd=past.cost_usd,
        input_tokens=past.input_tokens,
        output_tokens=past.output_tokens,
        notes=f"seed:{tag}",
    )
