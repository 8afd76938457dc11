"""Domain types of the engine. Plain dataclasses (and two NamedTuples): the
engine never sees protobuf.

The servicer converts minima.v1 messages to and from these (minima_grpc/convert.py).
Optional values are None when the caller did not set them; defaults are applied
by the engine, so one place owns them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


class TaskType(enum.StrEnum):
    CODE = "code"
    SUMMARIZATION = "summarization"
    EXTRACTION = "extraction"
    QA = "qa"
    REASONING = "reasoning"
    CLASSIFICATION = "classification"
    TRANSLATION = "translation"
    CREATIVE = "creative"
    RAG = "rag"
    TOOL_USE = "tool_use"
    OTHER = "other"


class Difficulty(enum.StrEnum):
    TRIVIAL = "trivial"
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"
    EXPERT = "expert"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILURE = "failure"


class DecisionBasis(enum.StrEnum):
    MEMORY = "memory"
    PRIOR = "prior"
    LLM = "llm"


class HealthStatus(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is asking and where their data lives.

    `tenant` is the data boundary (the embedded key's tenant, or the Mubit
    instance behind a pass-through key). `api_key` is set only for backends that
    forward it (Mubit); it is never logged or stored.
    """

    tenant: str
    namespace: str | None = None
    user_id: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @property
    def lane(self) -> str:
        return f"minima:{self.namespace or 'default'}"


@dataclass(frozen=True, slots=True)
class TaskInput:
    task: str
    task_type: TaskType | None = None
    difficulty: Difficulty | None = None
    expected_input_tokens: int | None = None
    expected_output_tokens: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraints:
    allowed_providers: tuple[str, ...] = ()
    candidate_models: tuple[str, ...] = ()
    excluded_models: tuple[str, ...] = ()
    max_cost_per_call: float | None = None
    min_quality: float | None = None
    require_prompt_caching: bool | None = None
    max_latency_ms: int | None = None
    require_context_window: int | None = None


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    task: TaskInput
    cost_quality_tradeoff: float | None = None
    constraints: Constraints = Constraints()
    max_candidates: int | None = None
    allow_llm_escalation: bool | None = None
    explain: bool | None = None


class EvidenceRef(NamedTuple):
    """NamedTuples, this and RankedModel, unlike the other types: a response
    holds dozens of them, built on every recommendation, and a frozen dataclass
    costs twice as much to build. Both are read by field name only."""

    entry_id: str
    reference_id: str | None
    model_id: str
    score: float
    knowledge_confidence: float
    observed_success: float
    is_stale: bool


class RankedModel(NamedTuple):
    model_id: str
    provider: str
    predicted_success: float
    est_cost_usd: float
    est_cost_breakdown: dict[str, float]
    score: float
    rationale: str
    decision_basis: DecisionBasis
    evidence: tuple[EvidenceRef, ...]
    supports_prompt_caching: bool
    context_window: int


@dataclass(frozen=True, slots=True)
class RecommendResponse:
    recommendation_id: str
    recommended_model: RankedModel
    ranked: tuple[RankedModel, ...]
    fallback_model: RankedModel | None
    confidence: float
    decision_basis: DecisionBasis
    threshold_used: float
    classified_task_type: TaskType
    classified_difficulty: Difficulty
    catalog_version: str
    catalog_stale: bool
    latency_ms: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    step_id: str
    task: TaskInput
    constraints: Constraints | None = None
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkflowRequest:
    steps: tuple[WorkflowStep, ...]
    cost_quality_tradeoff: float | None = None
    constraints: Constraints = Constraints()
    allow_llm_escalation: bool | None = None


@dataclass(frozen=True, slots=True)
class StepRecommendation:
    step_id: str
    recommendation: RecommendResponse


@dataclass(frozen=True, slots=True)
class WorkflowResponse:
    workflow_recommendation_id: str
    steps: tuple[StepRecommendation, ...]
    total_est_cost_usd: float
    total_est_cost_if_all_premium: float
    confidence: float


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    recommendation_id: str
    chosen_model_id: str
    outcome: Outcome
    quality_score: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    actual_cost_usd: float | None = None
    latency_ms: int | None = None
    verified_in_production: bool = False
    notes: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackResponse:
    accepted: bool
    record_id: str | None = None
    reinforced_entry_ids: tuple[str, ...] = ()
    updated_confidence: float | None = None
    reflection_triggered: bool = False
    lesson_promoted: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelCard:
    model_id: str
    provider: str
    display_name: str
    input_cost_per_mtok: float
    output_cost_per_mtok: float
    cache_read_cost_per_mtok: float | None
    supports_prompt_caching: bool
    context_window: int
    max_output_tokens: int | None
    capability_priors: dict[str, float]
    capability_by_task_type: dict[str, float]
    cost_source: str
    cost_fetched_at: datetime | None
    cost_stale: bool
    capability_source: str


@dataclass(frozen=True, slots=True)
class ModelsQuery:
    provider: str | None = None
    task_type: TaskType | None = None
    max_cost: float | None = None
    include_stale: bool | None = None


@dataclass(frozen=True, slots=True)
class ModelsResponse:
    models: tuple[ModelCard, ...]
    catalog_version: str
    refreshed_at: datetime | None
    stale: bool


@dataclass(frozen=True, slots=True)
class Strategy:
    strategy_id: str
    description: str
    supporting_lesson_count: int
    avg_confidence: float
    avg_reinforcement: float
    dominant_lesson_type: str
    dominant_scope: str
    lesson_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StrategiesQuery:
    lesson_types: tuple[str, ...] = ()
    max_strategies: int | None = None


@dataclass(frozen=True, slots=True)
class StrategiesResponse:
    namespace: str | None
    lane: str
    strategies: tuple[Strategy, ...]
    count: int


@dataclass(frozen=True, slots=True)
class MemoryStatus:
    reachable: bool | None
    latency_ms: int | None


@dataclass(frozen=True, slots=True)
class CatalogStatus:
    version: str
    stale: bool
    models: int


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: HealthStatus
    memory: MemoryStatus
    catalog: CatalogStatus
    version: str
