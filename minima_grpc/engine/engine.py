"""MinimaEngine: the RoutingEngine the servicer calls (engine/api.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import minima_grpc
from minima_grpc.catalog import Catalog
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.feedback import FeedbackHandler
from minima_grpc.engine.feedback_flow import FeedbackFlow
from minima_grpc.engine.reasoner import Reasoner
from minima_grpc.engine.recommend import Recommender
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import (
    CatalogStatus,
    FeedbackRequest,
    FeedbackResponse,
    HealthReport,
    HealthStatus,
    MemoryStatus,
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
from minima_grpc.engine.validate import (
    MAX_STRATEGIES_RANGE,
    check_models_query,
    check_strategies_query,
)
from minima_grpc.engine.workflow import WorkflowRunner
from minima_grpc.memory.protocol import Memory, RecommendationStore

log = logging.getLogger(__name__)

DEFAULT_MAX_STRATEGIES = 5
# A health probe must answer quickly even when memory hangs.
PROBE_TIMEOUT_S = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class MinimaEngine:
    def __init__(
        self,
        catalog: Catalog,
        memory: Memory,
        store: RecommendationStore,
        *,
        settings: EngineSettings | None = None,
        reasoner: Reasoner | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.catalog = catalog
        self.settings = settings or EngineSettings()
        self._memory = memory
        self._store = store
        self._clock = clock
        flow = FeedbackFlow(self.settings.exploration_feedback_window)
        self._recommender = Recommender(
            catalog, memory, store, self.settings, reasoner, clock, flow
        )
        self._workflows = WorkflowRunner(self._recommender)
        self._feedback = FeedbackHandler(catalog, memory, store, self.settings, clock, flow)

    async def start(self) -> None:
        """The catalog is loaded at construction; drop recommendations past their TTL."""
        try:
            purged = await self._store.purge_expired()
        except Exception:
            log.exception("purging expired recommendations failed; continuing")
        else:
            log.info("catalog %s (%d models); purged %d expired recommendations",
                     self.catalog.version, len(self.catalog.entries), purged)  # fmt: skip

    async def close(self) -> None:
        await self._memory.close()

    async def recommend(self, scope: Scope, request: RecommendRequest) -> RecommendResponse:
        plan = self._recommender.plan(request)
        return (await self._recommender.run(scope, plan)).response

    async def recommend_workflow(self, scope: Scope, request: WorkflowRequest) -> WorkflowResponse:
        return await self._workflows.run(scope, request)

    async def feedback(self, scope: Scope, request: FeedbackRequest) -> FeedbackResponse:
        return await self._feedback.handle(scope, request)

    async def list_models(self, query: ModelsQuery) -> ModelsResponse:
        check_models_query(query)
        now = self._clock()
        return ModelsResponse(
            models=self.catalog.cards(query, now),
            catalog_version=self.catalog.version,
            refreshed_at=self.catalog.refreshed_at,
            stale=self.catalog.is_stale(now),
        )

    async def strategies(self, scope: Scope, query: StrategiesQuery) -> StrategiesResponse:
        check_strategies_query(query)
        limit = query.max_strategies or DEFAULT_MAX_STRATEGIES
        limit = min(max(limit, MAX_STRATEGIES_RANGE[0]), MAX_STRATEGIES_RANGE[1])
        try:
            found = await self._memory.strategies(scope, query.lesson_types, limit)
        except Unauthenticated:
            raise
        except Exception:
            # The contract has no warnings here: an outage reads as "no strategies yet".
            log.exception("strategies unavailable for lane %s", scope.lane)
            found = []
        strategies = tuple(found[:limit])
        return StrategiesResponse(
            namespace=scope.namespace,
            lane=scope.lane,
            strategies=strategies,
            count=len(strategies),
        )

    async def health(self, scope: Scope | None) -> HealthReport:
        memory = await self._probe(scope)
        now = self._clock()
        return HealthReport(
            status=HealthStatus.DEGRADED if memory.reachable is False else HealthStatus.OK,
            memory=memory,
            catalog=CatalogStatus(
                version=self.catalog.version,
                stale=self.catalog.is_stale(now),
                models=len(self.catalog.entries),
            ),
            version=minima_grpc.__version__,
        )

    async def _probe(self, scope: Scope | None) -> MemoryStatus:
        """Unauthenticated probes get liveness only; a rejected key proves
        nothing about reachability either way."""
        if scope is None:
            return MemoryStatus(reachable=None, latency_ms=None)
        try:
            probe = await asyncio.wait_for(self._memory.probe(scope), PROBE_TIMEOUT_S)
        except Unauthenticated:
            return MemoryStatus(reachable=None, latency_ms=None)
        except Exception:
            log.warning("memory probe failed", exc_info=True)
            return MemoryStatus(reachable=False, latency_ms=None)
        return MemoryStatus(reachable=probe.reachable, latency_ms=probe.latency_ms)
