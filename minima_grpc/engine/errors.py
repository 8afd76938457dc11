"""Domain errors the engine and stores raise. Transport code maps them to
google.rpc.Status (minima_grpc/errors.py); nothing here knows about gRPC."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One invalid field: a dotted snake_case path and a human description."""

    field: str
    description: str


class MinimaError(Exception):
    """Base of every error the domain raises on purpose."""

    reason = "INTERNAL"

    def __init__(self, message: str, *, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})


class InvalidRequest(MinimaError):
    """The request is well-formed but breaks a documented rule."""

    reason = "REQUEST_INVALID"

    def __init__(self, violations: list[FieldViolation]) -> None:
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(f"invalid request: {summary}")
        self.violations = tuple(violations)


class UnknownModel(InvalidRequest):
    """A model id that is not in the catalog."""

    reason = "MODEL_UNKNOWN"

    def __init__(self, field: str, model_id: str) -> None:
        super().__init__([FieldViolation(field, f"unknown model id {model_id!r}")])
        self.metadata["modelId"] = model_id


class NoCandidateModels(MinimaError):
    """The constraints eliminated every catalog model (REST 422)."""

    reason = "NO_CANDIDATE_MODELS"


class Unauthenticated(MinimaError):
    """The caller's key was rejected (by us or by a pass-through backend)."""

    reason = "API_KEY_INVALID"


class BackendUnavailable(MinimaError):
    """A backend a call cannot do without is down (never raised for recall,
    which degrades to prior-only instead)."""

    reason = "BACKEND_UNAVAILABLE"
