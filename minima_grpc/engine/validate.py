"""Request rules the engine enforces itself, whatever the transport checked.

Every violation is collected, so a caller fixes them all at once; nothing is
read or written before validation passes.
"""

from __future__ import annotations

import math

from minima_grpc.engine.errors import FieldViolation, InvalidRequest
from minima_grpc.engine.types import (
    Constraints,
    FeedbackRequest,
    ModelsQuery,
    RecommendRequest,
    StrategiesQuery,
    TaskInput,
)

MAX_CANDIDATES_RANGE = (1, 64)
MAX_STRATEGIES_RANGE = (1, 50)


class Violations:
    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self.items.append(FieldViolation(field, description))

    def number(
        self,
        field: str,
        value: float | None,
        low: float | None = None,
        high: float | None = None,
        *,
        exclusive_low: bool = False,
    ) -> None:
        if value is None:
            return
        if not math.isfinite(value):
            self.add(field, "must be a finite number")
        elif low is not None and (value <= low if exclusive_low else value < low):
            self.add(field, f"must be {'>' if exclusive_low else '>='} {low:g}")
        elif high is not None and value > high:
            self.add(field, f"must be <= {high:g}")

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidRequest(self.items)


def check_task(v: Violations, task: TaskInput, prefix: str) -> None:
    if not task.task.strip():
        v.add(f"{prefix}task", "must not be empty")
    v.number(f"{prefix}expected_input_tokens", task.expected_input_tokens, 0)
    v.number(f"{prefix}expected_output_tokens", task.expected_output_tokens, 0)


def check_constraints(v: Violations, c: Constraints, prefix: str) -> None:
    v.number(f"{prefix}max_cost_per_call", c.max_cost_per_call, 0)
    v.number(f"{prefix}min_quality", c.min_quality, 0, 1)
    v.number(f"{prefix}max_latency_ms", c.max_latency_ms, 0, exclusive_low=True)
    v.number(f"{prefix}require_context_window", c.require_context_window, 0, exclusive_low=True)


def check_tradeoff(v: Violations, value: float | None, field: str) -> None:
    v.number(field, value, 0, 10)


def check_recommend(v: Violations, r: RecommendRequest, prefix: str = "") -> None:
    check_task(v, r.task, f"{prefix}task.")
    check_tradeoff(v, r.cost_quality_tradeoff, f"{prefix}cost_quality_tradeoff")
    check_constraints(v, r.constraints, f"{prefix}constraints.")
    v.number(f"{prefix}max_candidates", r.max_candidates, *MAX_CANDIDATES_RANGE)


def check_feedback(r: FeedbackRequest) -> None:
    v = Violations()
    if not r.recommendation_id.strip():
        v.add("recommendation_id", "must not be empty")
    if not r.chosen_model_id.strip():
        v.add("chosen_model_id", "must not be empty")
    v.number("quality_score", r.quality_score, 0, 1)
    v.number("input_tokens", r.input_tokens, 0)
    v.number("output_tokens", r.output_tokens, 0)
    v.number("actual_cost_usd", r.actual_cost_usd, 0)
    v.number("latency_ms", r.latency_ms, 0)
    if r.idempotency_key is not None and not r.idempotency_key.strip():
        v.add("idempotency_key", "must not be blank when set")
    v.raise_if_any()


def check_models_query(q: ModelsQuery) -> None:
    v = Violations()
    v.number("max_cost", q.max_cost, 0)
    v.raise_if_any()


def check_strategies_query(q: StrategiesQuery) -> None:
    v = Violations()
    v.number("max_strategies", q.max_strategies, *MAX_STRATEGIES_RANGE)
    v.raise_if_any()
