"""The seam between transport and engine: what the servicer calls.

The servicer (minima_grpc/servicer.py) converts protobuf to the domain types of
engine/types.py and calls a RoutingEngine; the engine never sees protobuf.
"""

from __future__ import annotations

from typing import Protocol

from minima_grpc.engine.types import (
    FeedbackRequest,
    FeedbackResponse,
    HealthReport,
    ModelsQuery,
    ModelsResponse,
    RecommendRequest,
    RecommendResponse,
    Scope,
    StrategiesQuery,
    StrategiesResponse,
    WorkflowRequest,
    WorkflowResponse,
)


class RoutingEngine(Protocol):
    """Raises only minima_grpc.engine.errors.MinimaError subclasses on purpose;
    anything else is a bug and becomes INTERNAL."""

    async def recommend(self, scope: Scope, request: RecommendRequest) -> RecommendResponse: ...

    async def recommend_workflow(
        self, scope: Scope, request: WorkflowRequest
    ) -> WorkflowResponse: ...

    async def feedback(self, scope: Scope, request: FeedbackRequest) -> FeedbackResponse: ...

    async def list_models(self, query: ModelsQuery) -> ModelsResponse: ...

    async def strategies(self, scope: Scope, query: StrategiesQuery) -> StrategiesResponse: ...

    async def health(self, scope: Scope | None) -> HealthReport:
        """Never raises; scope is None for an unauthenticated probe."""
        ...

    async def start(self) -> None:
        """Load the catalog, open stores; the server reports SERVING after this."""
        ...

    async def close(self) -> None: ...
