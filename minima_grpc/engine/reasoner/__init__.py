"""Optional cheap-LLM reasoner consulted when evidence is thin."""

from minima_grpc.engine.reasoner.base import (
    CandidateView,
    Reasoner,
    ReasonerAdvice,
    ReasonerBrief,
    ReasonerError,
)
from minima_grpc.engine.reasoner.config import (
    ReasonerConfig,
    ReasonerConfigError,
    build_reasoner,
)

__all__ = [
    "CandidateView",
    "Reasoner",
    "ReasonerAdvice",
    "ReasonerBrief",
    "ReasonerConfig",
    "ReasonerConfigError",
    "ReasonerError",
    "build_reasoner",
]
