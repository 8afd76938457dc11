"""Typed Python client for Minima: which LLM to use for a task, for the least cost.

    from minima_client import MinimaClient

    with MinimaClient("https://api.minima.sh", api_key="mbt_...") as minima:
        rec = minima.recommend("Summarize this incident report into 3 bullets.")
        print(rec.recommended_model.model_id)

`AsyncMinimaClient` has the same methods for asyncio code, and
`minima_client.autocapture` records LLM calls and reports their outcomes.
"""

from __future__ import annotations

from . import autocapture
from ._version import __version__
from .client import AsyncMinimaClient, MinimaClient
from .errors import FieldViolation, MinimaError, MinimaResponseError, MinimaTransportError
from .models import (
    Constraints,
    DecisionBasis,
    Difficulty,
    EvidenceRef,
    FeedbackRequest,
    FeedbackResponse,
    ModelCard,
    ModelsQuery,
    ModelsResponse,
    Outcome,
    RankedModel,
    RecommendRequest,
    RecommendResponse,
    StepRecommendation,
    StrategiesQuery,
    StrategiesResponse,
    Strategy,
    TaskInput,
    TaskType,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
)

__all__ = [
    "AsyncMinimaClient",
    "Constraints",
    "DecisionBasis",
    "Difficulty",
    "EvidenceRef",
    "FeedbackRequest",
    "FeedbackResponse",
    "FieldViolation",
    "MinimaClient",
    "MinimaError",
    "MinimaResponseError",
    "MinimaTransportError",
    "ModelCard",
    "ModelsQuery",
    "ModelsResponse",
    "Outcome",
    "RankedModel",
    "RecommendRequest",
    "RecommendResponse",
    "StepRecommendation",
    "StrategiesQuery",
    "StrategiesResponse",
    "Strategy",
    "TaskInput",
    "TaskType",
    "WorkflowRequest",
    "WorkflowResponse",
    "WorkflowStep",
    "__version__",
    "autocapture",
]
