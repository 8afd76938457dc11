"""One recommendation, end to end.

plan():  validate, classify, apply hard constraints. Pure: raises on bad input
         before anything is read or written (a workflow plans every step first).
run():   recall -> aggregate -> price + predict every candidate -> budget ->
         threshold -> pick -> escalation (optional reasoner) -> exploration ->
         persist -> respond.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from minima_grpc.catalog import Catalog
from minima_grpc.engine.aggregate import aggregate
from minima_grpc.engine.candidates import eligible_models
from minima_grpc.engine.classify import classify
from minima_grpc.engine.consult import escalate
from minima_grpc.engine.decision import Plan, decide, score
from minima_grpc.engine.errors import BackendUnavailable, Unauthenticated
from minima_grpc.engine.explore import exploration_seed, explore
from minima_grpc.engine.feedback_flow import FeedbackFlow
from minima_grpc.engine.reasoner import Reasoner
from minima_grpc.engine.recall import recall_neighbours
from minima_grpc.engine.respond import pending_recommendation, recommend_response
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import RecommendRequest, RecommendResponse, Scope
from minima_grpc.engine.validate import Violations, check_recommend
from minima_grpc.memory.protocol import (
    Memory,
    PendingRecommendation,
    RecallQuery,
    RecommendationStore,
)

log = logging.getLogger(__name__)

# Bounded so one huge prompt cannot bloat memory or the recall query.
MAX_TASK_TEXT = 4000
_SPACES = re.compile(r"\s+")


def task_text(raw: str) -> str:
    """Whitespace-collapsed text; past MAX_TASK_TEXT, its start and its end.

    Long prompts put the instructions first and the actual question last (a
    few-shot preamble, RAG context), so both ends are kept, not just the head.
    """
    text = _SPACES.sub(" ", raw).strip()
    if len(text) <= MAX_TASK_TEXT:
        return text
    head = MAX_TASK_TEXT // 4
    return f"{text[:head]} … {text[len(text) - (MAX_TASK_TEXT - head - 3) :]}"


@dataclass(frozen=True, slots=True)
class Recommendation:
    response: RecommendResponse
    # Cost of the priciest candidate considered: the workflow's savings baseline.
    premium_cost: float


class Recommender:
    def __init__(
        self,
        catalog: Catalog,
        memory: Memory,
        store: RecommendationStore,
        settings: EngineSettings,
        reasoner: Reasoner | None,
        clock: Callable[[], datetime],
        flow: FeedbackFlow,
    ) -> None:
        self._catalog = catalog
        self._flow = flow
        self._memory = memory
        self._store = store
        self._settings = settings
        self._reasoner = reasoner
        self._clock = clock

    def plan(self, request: RecommendRequest, field_prefix: str = "") -> Plan:
        v = Violations()
        check_recommend(v, request, field_prefix)
        v.raise_if_any()
        task = request.task
        return Plan(
            request=request,
            classification=classify(task.task, task.task_type, task.difficulty),
            candidates=eligible_models(self._catalog, request.constraints),
            text=task_text(task.task),
        )

    async def run(self, scope: Scope, plan: Plan) -> Recommendation:
        started = time.perf_counter()
        settings, request = self._settings, plan.request
        now = self._clock()
        ids = tuple(e.model_id for e in plan.candidates)
        query = RecallQuery(
            text=plan.text,
            k=settings.recall_k,
            models=ids,
            per_model_k=settings.recall_per_model_k,
            tags=request.task.tags,
        )
        recall = await recall_neighbours(self._memory, scope, query, settings.recall_timeout_ms)
        evidence = aggregate(recall.neighbours, ids, now, settings)
        first = decide(request, score(plan, plan.classification, evidence, settings), settings)
        escalation = await escalate(plan, first, evidence, self._reasoner, settings)
        seed = exploration_seed(scope, plan.text)
        reporting = self._flow.reporting_share(scope)
        exploration = explore(request, escalation.decision, seed, settings, reporting)
        decision = exploration.decision

        warnings = [recall.warning] if recall.warning else []
        warnings += ["llm_classified"] if escalation.reclassified else []
        warnings += ["no_model_within_cost_budget"] if decision.over_budget else []
        warnings += [f"escalation_suggested:{r}" for r in escalation.reasons]
        warnings += [escalation.reasoner_warning] if escalation.reasoner_warning else []
        warnings += [] if decision.selection.met_threshold else ["no_model_meets_threshold"]
        warnings += [exploration.warning] if exploration.warning else []
        warnings += ["cold_start"] if recall.warning is None and not evidence else []
        catalog_stale = self._catalog.is_stale(now)
        warnings += ["prices_stale"] if catalog_stale else []

        recommendation_id = uuid.uuid4().hex
        pending = pending_recommendation(recommendation_id, scope, plan, decision, now)
        await self._persist(scope, pending)
        self._flow.recommended(scope)
        response = recommend_response(
            recommendation_id,
            plan,
            decision,
            self._catalog,
            catalog_stale,
            tuple(warnings),
            started,
            settings,
        )
        premium = max(c.cost for c in decision.scored.candidates)
        return Recommendation(response=response, premium_cost=premium)

    async def _persist(self, scope: Scope, pending: PendingRecommendation) -> None:
        """Stored before the caller sees the id, so its feedback can always be joined."""
        try:
            await self._store.put(scope, pending)
        except Unauthenticated:
            raise
        except Exception as exc:
            log.exception("could not persist recommendation %s", pending.recommendation_id)
            raise BackendUnavailable(
                "the recommendation could not be stored, so its feedback could not be joined"
            ) from exc
