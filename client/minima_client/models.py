"""Typed request and response models of the Minima `/v1` contract.

Field names are the wire names (snake_case, as the REST API and the proto use).

Request models check types and reject unknown keys, so a typo fails before
anything is sent; ranges (0-10, >= 0, ...) are left to the server, which is the
one place that owns them and reports every violation in a single 400.

Response models ignore fields they do not know (a newer server may add some),
but a missing or mistyped documented field is a contract break and fails
loudly (as MinimaResponseError). Fields the contract documents as nullable are
`X | None`. Task types are an open set on the server, so responses carry them
as plain strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Strict

TaskType = Literal[
    "code",
    "summarization",
    "extraction",
    "qa",
    "reasoning",
    "classification",
    "translation",
    "creative",
    "rag",
    "tool_use",
    "other",
]
Difficulty = Literal["trivial", "easy", "medium", "hard", "expert"]
Outcome = Literal["success", "partial", "failure"]
DecisionBasis = Literal["memory", "prior", "llm"]


# Strict: no silent coercion ("0.5" is not a number, 1 is not a bool), except
# that timestamps arrive as RFC 3339 strings.
Timestamp = Annotated[datetime, Strict(False)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


# -- requests -------------------------------------------------------------------


class TaskInput(_Request):
    """The task to route. Unset fields are classified or defaulted server-side."""

    task: str
    task_type: TaskType | None = None
    difficulty: Difficulty | None = None
    expected_input_tokens: int | None = None
    expected_output_tokens: int | None = None
    tags: list[str] | None = None


class Constraints(_Request):
    """Hard limits on the candidate set; every field optional."""

    allowed_providers: list[str] | None = None
    candidate_models: list[str] | None = None
    excluded_models: list[str] | None = None
    max_cost_per_call: float | None = None
    min_quality: float | None = None
    require_prompt_caching: bool | None = None
    max_latency_ms: int | None = None
    require_context_window: int | None = None


class WorkflowStep(_Request):
    """One step of a workflow; `constraints` are merged over the global ones."""

    step_id: str
    task: TaskInput
    constraints: Constraints | None = None
    depends_on: list[str] | None = None


class WorkflowRequest(_Request):
    """Body of `recommend_workflow`. `None` fields take the server default."""

    steps: list[WorkflowStep]
    cost_quality_tradeoff: float | None = None
    constraints: Constraints | None = None
    user_id: str | None = None
    namespace: str | None = None
    allow_llm_escalation: bool | None = None


# -- responses ------------------------------------------------------------------


class EvidenceRef(_Response):
    """A recalled past outcome that informed a candidate."""

    entry_id: str
    reference_id: str | None = None
    model_id: str
    score: float
    knowledge_confidence: float
    observed_success: float
    is_stale: bool


class RankedModel(_Response):
    """One scored candidate."""

    model_id: str
    provider: str
    predicted_success: float
    est_cost_usd: float
    est_cost_breakdown: dict[str, float]
    score: float
    rationale: str
    decision_basis: DecisionBasis
    evidence: list[EvidenceRef]
    supports_prompt_caching: bool
    context_window: int


class RecommendResponse(_Response):
    """The recommendation; quote `recommendation_id` back to `feedback`."""

    recommendation_id: str
    recommended_model: RankedModel
    ranked: list[RankedModel]
    fallback_model: RankedModel | None = None
    confidence: float
    decision_basis: DecisionBasis
    threshold_used: float
    classified_task_type: str
    classified_difficulty: Difficulty
    catalog_version: str
    catalog_stale: bool
    latency_ms: int
    warnings: list[str]


class StepRecommendation(_Response):
    """The recommendation for one workflow step."""

    step_id: str
    recommendation: RecommendResponse


class WorkflowResponse(_Response):
    """Per-step recommendations plus the workflow totals."""

    workflow_recommendation_id: str
    steps: list[StepRecommendation]
    total_est_cost_usd: float
    total_est_cost_if_all_premium: float
    confidence: float


class FeedbackResponse(_Response):
    """What the server did with a reported outcome."""

    accepted: bool
    record_id: str | None = None
    reinforced_entry_ids: list[str]
    updated_confidence: float | None = None
    reflection_triggered: bool
    lesson_promoted: bool
    warnings: list[str]


class ModelCard(_Response):
    """A catalog entry: prices (USD per million tokens) and capability priors."""

    model_id: str
    provider: str
    display_name: str
    input_cost_per_mtok: float
    output_cost_per_mtok: float
    cache_read_cost_per_mtok: float | None = None
    supports_prompt_caching: bool
    context_window: int
    max_output_tokens: int | None = None
    capability_priors: dict[str, float]
    capability_by_task_type: dict[str, float]
    cost_source: str
    cost_fetched_at: Timestamp | None = None
    cost_stale: bool
    capability_source: str


class ModelsResponse(_Response):
    """The catalog, sorted by input price."""

    models: list[ModelCard]
    catalog_version: str
    refreshed_at: Timestamp | None = None
    stale: bool


class Strategy(_Response):
    """A routing rule promoted from lessons."""

    strategy_id: str
    description: str
    supporting_lesson_count: int
    avg_confidence: float
    avg_reinforcement: float
    dominant_lesson_type: str
    dominant_scope: str
    lesson_ids: list[str]


class StrategiesResponse(_Response):
    """The strategies of one namespace's lane (`minima:<namespace>`)."""

    namespace: str | None = None
    lane: str
    strategies: list[Strategy]
    count: int


# -- request envelopes (built by the client methods; public for callers that
#    want to assemble a request themselves) ---------------------------------------


class RecommendRequest(_Request):
    """Body of `POST /v1/recommend`. `None` fields take the server default."""

    task: TaskInput
    cost_quality_tradeoff: float | None = None
    constraints: Constraints | None = None
    user_id: str | None = None
    namespace: str | None = None
    max_candidates: int | None = None
    allow_llm_escalation: bool | None = None
    explain: bool | None = None


class FeedbackRequest(_Request):
    """Body of `POST /v1/feedback`."""

    recommendation_id: str
    chosen_model_id: str
    outcome: Outcome
    quality_score: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    actual_cost_usd: float | None = None
    latency_ms: int | None = None
    verified_in_production: bool | None = None
    notes: str | None = None
    idempotency_key: str | None = None


class ModelsQuery(_Request):
    """Query of `GET /v1/models`."""

    provider: str | None = None
    task_type: TaskType | None = None
    max_cost: float | None = None
    include_stale: bool | None = None


class StrategiesQuery(_Request):
    """Query of `GET /v1/strategies`."""

    namespace: str | None = None
    lesson_types: list[str] | None = None
    max_strategies: int | None = None
