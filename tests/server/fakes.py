"""Test double of the routing engine for the transport tests.

`RecordingEngine` implements the RoutingEngine protocol with fixed but valid
domain objects, records what each call received (so tests can check the
servicer's conversion and scoping), and can be told to fail or to wait. It
stands in for the real engine only where the behaviour under test is the
transport's (auth, validation, errors, lifecycle), never routing itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minima_grpc.engine import types as d

MODEL = d.RankedModel(
    model_id="small-model",
    provider="acme",
    predicted_success=0.82,
    est_cost_usd=0.0004,
    est_cost_breakdown={"input": 0.0001, "output": 0.0003},
    score=0.91,
    rationale="clears the threshold at the lowest est cost",
    decision_basis=d.DecisionBasis.MEMORY,
    evidence=(
        d.EvidenceRef(
            entry_id="e-1",
            reference_id=None,
            model_id="small-model",
            score=0.77,
            knowledge_confidence=0.6,
            observed_success=0.9,
            is_stale=False,
        ),
    ),
    supports_prompt_caching=True,
    context_window=128_000,
)

RECOMMENDATION = d.RecommendResponse(
    recommendation_id="rec-1",
    recommended_model=MODEL,
    ranked=(MODEL,),
    fallback_model=None,
    confidence=0.7,
    decision_basis=d.DecisionBasis.MEMORY,
    threshold_used=0.75,
    classified_task_type=d.TaskType.CODE,
    classified_difficulty=d.Difficulty.HARD,
    catalog_version="test-1",
    catalog_stale=False,
    latency_ms=3,
    warnings=("cold_start",),
)

CARD = d.ModelCard(
    model_id="small-model",
    provider="acme",
    display_name="Small Model",
    input_cost_per_mtok=0.5,
    output_cost_per_mtok=1.5,
    cache_read_cost_per_mtok=None,
    supports_prompt_caching=False,
    context_window=128_000,
    max_output_tokens=None,
    capability_priors={"intelligence_index": 0.6},
    capability_by_task_type={"code": 0.7},
    cost_source="test",
    cost_fetched_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    cost_stale=False,
    capability_source="test",
)


@dataclass
class RecordingEngine:
    """RoutingEngine test double. Set `error` to make every API call raise it;
    clear `start_gate` / `call_gate` to make start() / recommend() wait for it."""

    calls: list[tuple[str, d.Scope | None, object]] = field(default_factory=list)
    error: BaseException | None = None
    start_gate: asyncio.Event | None = None
    call_gate: asyncio.Event | None = None
    call_entered: asyncio.Event = field(default_factory=asyncio.Event)
    started: bool = False
    closed: bool = False

    async def _enter(self, name: str, scope: d.Scope | None, request: object) -> None:
        self.calls.append((name, scope, request))
        self.call_entered.set()
        if self.call_gate is not None:
            await self.call_gate.wait()
        if self.error is not None:
            raise self.error

    async def recommend(self, scope: d.Scope, request: d.RecommendRequest) -> d.RecommendResponse:
        await self._enter("recommend", scope, request)
        return RECOMMENDATION

    async def recommend_workflow(
        self, scope: d.Scope, request: d.WorkflowRequest
    ) -> d.WorkflowResponse:
        await self._enter("recommend_workflow", scope, request)
        steps = tuple(d.StepRecommendation(s.step_id, RECOMMENDATION) for s in request.steps)
        return d.WorkflowResponse("wf-1", steps, 0.0004 * len(steps), 0.01 * len(steps), 0.7)

    async def feedback(self, scope: d.Scope, request: d.FeedbackRequest) -> d.FeedbackResponse:
        await self._enter("feedback", scope, request)
        return d.FeedbackResponse(accepted=True, record_id="r-1", reinforced_entry_ids=("e-1",))

    async def list_models(self, query: d.ModelsQuery) -> d.ModelsResponse:
        await self._enter("list_models", None, query)
        return d.ModelsResponse((CARD,), "test-1", CARD.cost_fetched_at, stale=False)

    async def strategies(self, scope: d.Scope, query: d.StrategiesQuery) -> d.StrategiesResponse:
        await self._enter("strategies", scope, query)
        return d.StrategiesResponse(scope.namespace, scope.lane, (), 0)

    async def health(self, scope: d.Scope | None) -> d.HealthReport:
        self.calls.append(("health", scope, None))
        probed = scope is not None
        return d.HealthReport(
            status=d.HealthStatus.OK,
            memory=d.MemoryStatus(reachable=True if probed else None, latency_ms=None),
            catalog=d.CatalogStatus(version="test-1", stale=False, models=1),
            version="0.1.0",
        )

    async def start(self) -> None:
        if self.start_gate is not None:
            await self.start_gate.wait()
        self.started = True

    async def close(self) -> None:
        self.closed = True
