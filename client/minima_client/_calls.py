"""The client surface, once: each public method is a function here that turns
its arguments into a transport-neutral `Call` (which RPC, which REST route,
the body in wire names, how to parse the answer).

`MinimaClient` and `AsyncMinimaClient` expose these functions as methods, and
the HTTP and gRPC transports both carry a `Call`; so sync and async, REST and
gRPC share one signature, one validation and one set of models.

A keyword left as `None` means "use the server default": it is left out of the
request rather than sent as null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import pydantic

from .errors import MinimaResponseError
from .models import (
    Constraints,
    FeedbackRequest,
    FeedbackResponse,
    ModelsQuery,
    ModelsResponse,
    Outcome,
    RecommendRequest,
    RecommendResponse,
    StrategiesQuery,
    StrategiesResponse,
    TaskInput,
    TaskType,
    WorkflowRequest,
    WorkflowResponse,
)

T = TypeVar("T")
JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API call, independent of transport.

    `payload` uses the wire field names (the same for the REST body or query
    and for the proto request message) and holds no `None` values.
    """

    rpc: str
    http_method: Literal["GET", "POST"]
    path: str
    payload: JSON
    parse: Callable[[JSON], T]

    def decode(self, data: JSON, *, request_id: str | None) -> T:
        """Parse a successful answer; a schema mismatch is a MinimaResponseError."""
        try:
            return self.parse(data)
        except pydantic.ValidationError as exc:
            raise MinimaResponseError(
                status=200,
                title="Unexpected response",
                detail=f"{self.rpc} answer does not match the documented schema: {exc}",
                request_id=request_id,
            ) from None


def _wire(model: pydantic.BaseModel) -> JSON:
    return model.model_dump(mode="json", exclude_none=True)


def _task_input(task: str | TaskInput | Mapping[str, Any]) -> TaskInput | Mapping[str, Any]:
    return TaskInput(task=task) if isinstance(task, str) else task


def derive_idempotency_key(recommendation_id: str, chosen_model_id: str) -> str:
    """The key sent when the caller gives none: one outcome per (recommendation,
    model), the server's own default, fixed on the client so that a retried
    request is deduplicated whichever replica receives it."""
    digest = hashlib.sha256(f"{recommendation_id}\x1f{chosen_model_id}".encode()).hexdigest()
    return f"mc-{digest[:32]}"


def recommend(
    task: str | TaskInput | Mapping[str, Any],
    *,
    cost_quality_tradeoff: float | None = None,
    constraints: Constraints | Mapping[str, Any] | None = None,
    user_id: str | None = None,
    namespace: str | None = None,
    max_candidates: int | None = None,
    allow_llm_escalation: bool | None = None,
    explain: bool | None = None,
) -> Call[RecommendResponse]:
    """Recommend a model for one task (`POST /v1/recommend`).

    `task` is the prompt text, a `TaskInput` or a dict with TaskInput's fields.
    Server defaults: cost_quality_tradeoff 5.0 (0 cheapest acceptable .. 10
    highest quality), no constraints, max_candidates 8, allow_llm_escalation
    and explain true.
    """
    body = RecommendRequest.model_validate(
        {
            "task": _task_input(task),
            "cost_quality_tradeoff": cost_quality_tradeoff,
            "constraints": constraints,
            "user_id": user_id,
            "namespace": namespace,
            "max_candidates": max_candidates,
            "allow_llm_escalation": allow_llm_escalation,
            "explain": explain,
        }
    )
    return Call("Recommend", "POST", "/v1/recommend", _wire(body), RecommendResponse.model_validate)


def recommend_workflow(request: WorkflowRequest | Mapping[str, Any]) -> Call[WorkflowResponse]:
    """Recommend a model for each step of a workflow (`POST /v1/recommend/workflow`)."""
    body = WorkflowRequest.model_validate(request)
    return Call(
        "RecommendWorkflow",
        "POST",
        "/v1/recommend/workflow",
        _wire(body),
        WorkflowResponse.model_validate,
    )


def feedback(
    recommendation_id: str,
    chosen_model_id: str,
    outcome: Outcome,
    *,
    quality_score: float | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    actual_cost_usd: float | None = None,
    latency_ms: int | None = None,
    verified_in_production: bool | None = None,
    notes: str | None = None,
    idempotency_key: str | None = None,
) -> Call[FeedbackResponse]:
    """Report how a recommendation went (`POST /v1/feedback`).

    `outcome` is "success", "partial" or "failure". Realized tokens and cost
    feed the observed and rescaled cost tiers. Without an `idempotency_key` the
    client derives one from the recommendation and the model, so retries (and
    repeats) of the same report count once.
    """
    body = FeedbackRequest.model_validate(
        {
            "recommendation_id": recommendation_id,
            "chosen_model_id": chosen_model_id,
            "outcome": outcome,
            "quality_score": quality_score,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "actual_cost_usd": actual_cost_usd,
            "latency_ms": latency_ms,
            "verified_in_production": verified_in_production,
            "notes": notes,
            "idempotency_key": idempotency_key
            or derive_idempotency_key(recommendation_id, chosen_model_id),
        }
    )
    return Call(
        "SubmitFeedback", "POST", "/v1/feedback", _wire(body), FeedbackResponse.model_validate
    )


def models(
    provider: str | None = None,
    task_type: TaskType | None = None,
    max_cost: float | None = None,
    include_stale: bool | None = None,
) -> Call[ModelsResponse]:
    """The model catalog (`GET /v1/models`), sorted by input price.

    Filters: provider (case-insensitive), task_type, max_cost (max of input and
    output USD per million tokens), include_stale (server default true).
    """
    query = ModelsQuery(
        provider=provider, task_type=task_type, max_cost=max_cost, include_stale=include_stale
    )
    return Call("ListModels", "GET", "/v1/models", _wire(query), ModelsResponse.model_validate)


def strategies(
    namespace: str | None = None,
    max_strategies: int | None = None,
    lesson_types: Sequence[str] | None = None,
) -> Call[StrategiesResponse]:
    """Routing strategies promoted for a namespace (`GET /v1/strategies`).

    Server default: 5 strategies, every lesson type.
    """
    query = StrategiesQuery(
        namespace=namespace,
        max_strategies=max_strategies,
        lesson_types=None if lesson_types is None else list(lesson_types),
    )
    return Call(
        "ListStrategies", "GET", "/v1/strategies", _wire(query), StrategiesResponse.model_validate
    )


def _health_body(data: JSON) -> JSON:
    return data


def health() -> Call[JSON]:
    """Service health (`GET /v1/health`) as a dict; `status` is "ok" or "degraded"."""
    return Call("GetHealth", "GET", "/v1/health", {}, _health_body)
