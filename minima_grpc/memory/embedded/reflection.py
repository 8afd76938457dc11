"""Reflection: a lane's lessons consolidated into strategies (pure functions).

Lessons are grouped by (task type, difficulty, model). A group's dominant
type is the more frequent one (ties go to "failure": caution wins); its
strength orders the strategies: more supporting lessons first, then higher
mean confidence.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from minima_grpc.engine.types import Strategy

# Matches what Mubit reports for lessons scoped to a run (= our lane).
SCOPE = "session"


@dataclass(frozen=True, slots=True)
class StoredLesson:
    lesson_id: str
    lesson_type: str
    task_type: str
    difficulty: str
    model_id: str
    confidence: float
    # Reinforcements received by the outcomes the lesson was promoted from.
    reinforcements: int


def consolidate(lane: str, lessons: Iterable[StoredLesson]) -> list[Strategy]:
    """One strategy per (task type, difficulty, model), strongest first."""
    groups: dict[tuple[str, str, str], list[StoredLesson]] = {}
    for lesson in lessons:
        groups.setdefault((lesson.task_type, lesson.difficulty, lesson.model_id), []).append(lesson)
    found = [_strategy(lane, key, members) for key, members in groups.items()]
    return rank(found)


def rank(strategies: Iterable[Strategy]) -> list[Strategy]:
    return sorted(
        strategies,
        key=lambda s: (-s.supporting_lesson_count, -s.avg_confidence, s.strategy_id),
    )


def _strategy(lane: str, key: tuple[str, str, str], members: Sequence[StoredLesson]) -> Strategy:
    task_type, difficulty, model = key
    types = Counter(m.lesson_type for m in members)
    dominant = "success" if types["success"] > types["failure"] else "failure"
    count = len(members)
    avg_confidence = sum(m.confidence for m in members) / count
    verb = "Prefer" if dominant == "success" else "Avoid"
    outcome = "succeeded" if dominant == "success" else "failed"
    digest = hashlib.sha256("\x1f".join((lane, *key)).encode("utf-8")).hexdigest()[:16]
    return Strategy(
        strategy_id=f"st_{digest}",
        description=(
            f"{verb} {model} for {task_type} tasks of {difficulty} difficulty: "
            f"{types[dominant]} of {count} lessons {outcome} "
            f"(mean confidence {avg_confidence:.0%})."
        ),
        supporting_lesson_count=count,
        avg_confidence=round(avg_confidence, 6),
        avg_reinforcement=round(sum(m.reinforcements for m in members) / count, 6),
        dominant_lesson_type=dominant,
        dominant_scope=SCOPE,
        lesson_ids=tuple(m.lesson_id for m in sorted(members, key=lambda m: m.lesson_id)),
    )
