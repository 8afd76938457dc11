"""The one import point for generated minima.v1 names.

Code outside minima_grpc/_gen imports messages, enums and service helpers from
here, so a change in how the stubs are generated touches one file.
"""

from __future__ import annotations

from minima_grpc._gen.minima.v1 import error_reason_pb2, types_pb2, validation_pb2
from minima_grpc._gen.minima.v1 import recommendation_service_pb2 as service_pb2
from minima_grpc._gen.minima.v1 import recommendation_service_pb2_grpc as service_pb2_grpc
from minima_grpc._gen.minima.v1.recommendation_service_pb2 import (
    CatalogHealth,
    Constraints,
    EvidenceRef,
    FeedbackRequest,
    FeedbackResponse,
    GetHealthRequest,
    GetHealthResponse,
    ListModelsRequest,
    ListModelsResponse,
    ListStrategiesRequest,
    ListStrategiesResponse,
    MemoryHealth,
    ModelCard,
    RankedModel,
    RecommendRequest,
    RecommendResponse,
    StepRecommendation,
    Strategy,
    TaskInput,
    WorkflowRequest,
    WorkflowResponse,
    WorkflowStep,
)
from minima_grpc._gen.minima.v1.recommendation_service_pb2_grpc import (
    RecommendationServiceServicer,
    RecommendationServiceStub,
    add_RecommendationServiceServicer_to_server,
)
from minima_grpc._gen.minima.v1.types_pb2 import (
    DecisionBasis,
    Difficulty,
    HealthStatus,
    Outcome,
    TaskType,
)

__all__ = [
    "ERROR_DOMAIN",
    "SERVICE_DESCRIPTOR",
    "SERVICE_NAME",
    "CatalogHealth",
    "Constraints",
    "DecisionBasis",
    "Difficulty",
    "EvidenceRef",
    "FeedbackRequest",
    "FeedbackResponse",
    "GetHealthRequest",
    "GetHealthResponse",
    "HealthStatus",
    "ListModelsRequest",
    "ListModelsResponse",
    "ListStrategiesRequest",
    "ListStrategiesResponse",
    "MemoryHealth",
    "ModelCard",
    "Outcome",
    "RankedModel",
    "RecommendRequest",
    "RecommendResponse",
    "RecommendationServiceServicer",
    "RecommendationServiceStub",
    "StepRecommendation",
    "Strategy",
    "TaskInput",
    "TaskType",
    "WorkflowRequest",
    "WorkflowResponse",
    "WorkflowStep",
    "add_RecommendationServiceServicer_to_server",
    "error_reason_pb2",
    "method_path",
    "service_pb2",
    "service_pb2_grpc",
    "types_pb2",
    "validation_pb2",
]

# google.rpc.ErrorInfo.domain of every error this service returns.
ERROR_DOMAIN = "minima.v1"

SERVICE_DESCRIPTOR = service_pb2.DESCRIPTOR.services_by_name["RecommendationService"]
# "minima.v1.RecommendationService", as used in health checks and reflection.
SERVICE_NAME: str = SERVICE_DESCRIPTOR.full_name


def method_path(method_name: str) -> str:
    """The gRPC path of one RPC, e.g. "/minima.v1.RecommendationService/Recommend"."""
    return f"/{SERVICE_NAME}/{SERVICE_DESCRIPTOR.methods_by_name[method_name].name}"
