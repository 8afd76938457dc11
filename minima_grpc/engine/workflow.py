"""Multi-step workflows: every step through the same engine.

All steps are validated and planned before any of them runs, so a bad step
(unknown dependency, cycle, impossible constraints) fails the call and writes
nothing. Steps are then scored concurrently; each gets its own
recommendation_id for per-step feedback.

The all-premium baseline of a step is its priciest candidate under the step's
constraints, priced like the others and taken before `max_candidates` trims
`ranked` (so it may be absent from that list) and before the cost budget.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from typing import TypeVar

from minima_grpc.engine.decision import Plan
from minima_grpc.engine.errors import NoCandidateModels
from minima_grpc.engine.recommend import Recommender
from minima_grpc.engine.types import (
    Constraints,
    RecommendRequest,
    Scope,
    StepRecommendation,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
)
from minima_grpc.engine.validate import Violations, check_constraints, check_tradeoff


def merge_constraints(base: Constraints, step: Constraints | None) -> Constraints:
    """A step's explicit value wins, including false and 0; unset inherits.
    (Lists cannot say "explicitly empty": an empty step list inherits.)"""
    if step is None:
        return base
    return Constraints(
        allowed_providers=step.allowed_providers or base.allowed_providers,
        candidate_models=step.candidate_models or base.candidate_models,
        excluded_models=step.excluded_models or base.excluded_models,
        max_cost_per_call=_pick(step.max_cost_per_call, base.max_cost_per_call),
        min_quality=_pick(step.min_quality, base.min_quality),
        require_prompt_caching=_pick(step.require_prompt_caching, base.require_prompt_caching),
        max_latency_ms=_pick(step.max_latency_ms, base.max_latency_ms),
        require_context_window=_pick(step.require_context_window, base.require_context_window),
    )


_T = TypeVar("_T")


def _pick(step: _T | None, base: _T | None) -> _T | None:
    return base if step is None else step


def check_graph(v: Violations, steps: Sequence[WorkflowStep]) -> None:
    """Unique non-empty ids; depends_on names existing other steps; no cycle."""
    if not steps:
        v.add("steps", "at least one step is required")
        return
    seen: set[str] = set()
    for i, step in enumerate(steps):
        if not step.step_id.strip():
            v.add(f"steps[{i}].step_id", "must not be empty")
        elif step.step_id in seen:
            v.add(f"steps[{i}].step_id", f"duplicate step id {step.step_id!r}")
        seen.add(step.step_id)
    ids = {s.step_id for s in steps}
    for i, step in enumerate(steps):
        for j, dep in enumerate(step.depends_on):
            if dep == step.step_id:
                v.add(f"steps[{i}].depends_on[{j}]", "a step cannot depend on itself")
            elif dep not in ids:
                v.add(f"steps[{i}].depends_on[{j}]", f"unknown step id {dep!r}")
    if not v.items:
        cycle = _cycle(steps)
        if cycle:
            v.add("steps", "depends_on forms a cycle: " + " -> ".join(cycle))


def _cycle(steps: Sequence[WorkflowStep]) -> list[str]:
    """One dependency cycle as a path of step ids, or [] (iterative DFS)."""
    edges = {s.step_id: list(dict.fromkeys(s.depends_on)) for s in steps}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in edges:
        if root in state:
            continue
        path = [root]
        iterators = [iter(edges[root])]
        state[root] = 1
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                iterators.append(iter(edges[nxt]))
    return []


class WorkflowRunner:
    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender

    def plan(self, request: WorkflowRequest) -> list[Plan]:
        v = Violations()
        check_graph(v, request.steps)
        check_tradeoff(v, request.cost_quality_tradeoff, "cost_quality_tradeoff")
        check_constraints(v, request.constraints, "constraints.")
        v.raise_if_any()
        plans = []
        for i, step in enumerate(request.steps):
            step_request = RecommendRequest(
                task=step.task,
                cost_quality_tradeoff=request.cost_quality_tradeoff,
                constraints=merge_constraints(request.constraints, step.constraints),
                allow_llm_escalation=request.allow_llm_escalation,
            )
            try:
                plans.append(self._recommender.plan(step_request, f"steps[{i}]."))
            except NoCandidateModels as exc:
                exc.metadata["stepId"] = step.step_id
                raise
        return plans

    async def run(self, scope: Scope, request: WorkflowRequest) -> WorkflowResponse:
        plans = self.plan(request)
        results = await asyncio.gather(*(self._recommender.run(scope, p) for p in plans))
        steps = tuple(
            StepRecommendation(step.step_id, r.response)
            for step, r in zip(request.steps, results, strict=True)
        )
        return WorkflowResponse(
            workflow_recommendation_id=uuid.uuid4().hex,
            steps=steps,
            total_est_cost_usd=round(
                math.fsum(r.response.recommended_model.est_cost_usd for r in results), 8
            ),
            total_est_cost_if_all_premium=round(math.fsum(r.premium_cost for r in results), 8),
            confidence=round(math.fsum(r.response.confidence for r in results) / len(results), 4),
        )
