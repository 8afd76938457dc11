"""An engine for transport benchmarks: it starts, closes and answers nothing.

Benchmarks that measure the server or the adapter subclass it and override
the one call they exercise.
"""

from __future__ import annotations

from minima_grpc.engine import types as d


class IdleEngine:
    """Starts and closes; every API call is out of a benchmark's scope."""

    async def recommend(self, scope: d.Scope, request: d.RecommendRequest) -> d.RecommendResponse:
        raise NotImplementedError

    async def recommend_workflow(
        self, scope: d.Scope, request: d.WorkflowRequest
    ) -> d.WorkflowResponse:
        raise NotImplementedError

    async def feedback(self, scope: d.Scope, request: d.FeedbackRequest) -> d.FeedbackResponse:
        raise NotImplementedError

    async def list_models(self, query: d.ModelsQuery) -> d.ModelsResponse:
        raise NotImplementedError

    async def strategies(self, scope: d.Scope, query: d.StrategiesQuery) -> d.StrategiesResponse:
        raise NotImplementedError

    async def health(self, scope: d.Scope | None) -> d.HealthReport:
        raise NotImplementedError

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
