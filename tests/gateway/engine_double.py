"""TEST DOUBLE of the routing engine, for the gateway's shape checks only.

It answers every RoutingEngine call with fixed, fully populated domain results
(including the optional values, both set and unset), so the REST contract
tests can check every documented field without depending on routing quality.
It records the last request of each kind so tests can see what reached the
engine through gRPC (and the request id the server saw). Markers in a
recommend task script failures: a task containing NO_CANDIDATES raises
NoCandidateModels (as the real engine does when the constraints leave
nothing), SLEEP + "<seconds>" waits that long, CRASH raises an unexpected
error, NAN returns a non-finite confidence.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from typing import Any

from minima_grpc.engine import types as d
from minima_grpc.engine.errors import NoCandidateModels
from minima_grpc.interceptors.context import current_request_id

NO_CANDIDATES = "double:no-candidates"
SLEEP = "double:sleep:"
CRASH = "double:crash"
NAN = "double:nan"
SECRET = "secret internals"
KNOWN_RECOMMENDATION = "rec-known"


def _evidence() -> tuple[d.EvidenceRef, ...]:
    return (
        d.EvidenceRef("e1", "ref-1", "cheap-model", 0.91, 0.8, 0.9, False),
        d.EvidenceRef("e2", None, "cheap-model", 0.72, 0.6, 0.4, True),
    )


def _ranked(model_id: str, cost: float, success: float) -> d.RankedModel:
    return d.RankedModel(
        model_id=model_id,
        provider="acme",
        predicted_success=success,
        est_cost_usd=cost,
        est_cost_breakdown={"input": cost / 3, "output": 2 * cost / 3},
        score=success - cost,
        rationale=f"{model_id}: est cost",
        decision_basis=d.DecisionBasis.MEMORY,
        evidence=_evidence(),
        supports_prompt_caching=True,
        context_window=128_000,
    )


async def _recommendation(rec_id: str, task: d.TaskInput) -> d.RecommendResponse:
    if NO_CANDIDATES in task.task:
        raise NoCandidateModels("no models match the supplied constraints")
    if task.task == CRASH:
        raise RuntimeError(SECRET)
    if task.task.startswith(SLEEP):
        await asyncio.sleep(float(task.task.removeprefix(SLEEP)))
    cheap, strong = _ranked("cheap-model", 0.0012, 0.84), _ranked("strong-model", 0.03, 0.97)
    return d.RecommendResponse(
        recommendation_id=rec_id,
        recommended_model=cheap,
        ranked=(cheap, strong),
        fallback_model=strong,
        confidence=math.nan if task.task == NAN else 0.7,
        decision_basis=d.DecisionBasis.MEMORY,
        threshold_used=0.8,
        classified_task_type=task.task_type or d.TaskType.CODE,
        classified_difficulty=task.difficulty or d.Difficulty.MEDIUM,
        catalog_version="2026-01-01",
        catalog_stale=False,
        latency_ms=3,
        warnings=("escalation_suggested:thin_evidence",),
    )


def _card(model_id: str, *, full: bool) -> d.ModelCard:
    return d.ModelCard(
        model_id=model_id,
        provider="acme",
        display_name=model_id.title(),
        input_cost_per_mtok=0.25 if full else 3.0,
        output_cost_per_mtok=1.25 if full else 15.0,
        cache_read_cost_per_mtok=0.03 if full else None,
        supports_prompt_caching=full,
        context_window=200_000,
        max_output_tokens=8192 if full else None,
        capability_priors={"intelligence_index": 0.7},
        capability_by_task_type={"code": 0.8, "qa": 0.85},
        cost_source="litellm-snapshot",
        cost_fetched_at=datetime(2026, 1, 1, 12, 30, tzinfo=UTC) if full else None,
        cost_stale=not full,
        capability_source="prior",
    )


class EngineDouble:
    """Implements minima_grpc.engine.api.RoutingEngine with canned answers."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def recommend(self, scope: d.Scope, request: d.RecommendRequest) -> d.RecommendResponse:
        self.last["recommend"] = (scope, request)
        self.last["request_id"] = current_request_id()
        return await _recommendation("rec-1", request.task)

    async def recommend_workflow(
        self, scope: d.Scope, request: d.WorkflowRequest
    ) -> d.WorkflowResponse:
        self.last["workflow"] = (scope, request)
        steps = tuple(
            [
                d.StepRecommendation(step.step_id, await _recommendation(f"rec-{i}", step.task))
                for i, step in enumerate(request.steps)
            ]
        )
        return d.WorkflowResponse(
            workflow_recommendation_id="wf-1",
            steps=steps,
            total_est_cost_usd=sum(s.recommendation.recommended_model.est_cost_usd for s in steps),
            total_est_cost_if_all_premium=0.03 * len(steps),
            confidence=0.7,
        )

    async def feedback(self, scope: d.Scope, request: d.FeedbackRequest) -> d.FeedbackResponse:
        self.last["feedback"] = (scope, request)
        if request.recommendation_id != KNOWN_RECOMMENDATION:
            return d.FeedbackResponse(accepted=False, warnings=("unknown_recommendation",))
        return d.FeedbackResponse(
            accepted=True,
            record_id="record-1",
            reinforced_entry_ids=("e1",),
            updated_confidence=0.82,
            reflection_triggered=True,
            lesson_promoted=False,
        )

    async def list_models(self, query: d.ModelsQuery) -> d.ModelsResponse:
        self.last["models"] = query
        return d.ModelsResponse(
            models=(_card("cheap-model", full=True), _card("strong-model", full=False)),
            catalog_version="2026-01-01",
            refreshed_at=datetime(2026, 1, 1, tzinfo=UTC),
            stale=False,
        )

    async def strategies(self, scope: d.Scope, query: d.StrategiesQuery) -> d.StrategiesResponse:
        self.last["strategies"] = (scope, query)
        strategy = d.Strategy(
            strategy_id="s1",
            description="use cheap-model for python code",
            supporting_lesson_count=3,
            avg_confidence=0.8,
            avg_reinforcement=2.5,
            dominant_lesson_type="success",
            dominant_scope="task_type",
            lesson_ids=("l1", "l2", "l3"),
        )
        return d.StrategiesResponse(scope.namespace, scope.lane, (strategy,), 1)

    async def health(self, scope: d.Scope | None) -> d.HealthReport:
        memory = d.MemoryStatus(None, None) if scope is None else d.MemoryStatus(True, 2)
        return d.HealthReport(
            status=d.HealthStatus.OK,
            memory=memory,
            catalog=d.CatalogStatus("2026-01-01", False, 2),
            version="0.1.0",
        )
