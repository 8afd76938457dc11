"""Exceptions raised by the client.

Every failure of a call is a `MinimaError`:

- an error answer from the server (REST problem+json, or a gRPC status) is a
  `MinimaError` with its HTTP `status` (gRPC codes are mapped to the statuses
  the REST gateway uses, so both transports raise the same thing);
- no usable answer at all (connection refused, timeout, reset) is a
  `MinimaTransportError` (`status` is None);
- a 2xx answer that does not match the documented schema is a
  `MinimaResponseError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

# Statuses worth another attempt: the request never reached a healthy replica.
RETRYABLE_STATUSES = frozenset({502, 503, 504})

# Titles the contract documents; other statuses use the standard reason phrase.
_TITLES = {400: "Invalid request", 401: "Unauthorized", 422: "No candidate models"}


def title_for(status: int) -> str:
    """The problem title for an HTTP status."""
    if status in _TITLES:
        return _TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One invalid request field, as the server reported it."""

    field: str
    description: str


class MinimaError(Exception):
    """A Minima call failed.

    Attributes mirror the problem+json body: `status`, `title`, `detail` and
    `type`; plus `request_id` (the X-Request-Id of the call), `reason` (the
    machine-readable ErrorInfo reason, e.g. "NO_CANDIDATE_MODELS", when the
    server sent one), `field_violations`, and `body`: the decoded JSON of a
    REST error answer (None over gRPC, or when the answer was not JSON).
    """

    def __init__(
        self,
        *,
        status: int | None,
        title: str,
        detail: str,
        request_id: str | None = None,
        type: str = "about:blank",
        reason: str | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.request_id = request_id
        self.type = type
        self.reason = reason
        self.field_violations = field_violations
        self.body = body
        super().__init__(str(self))

    @property
    def retryable(self) -> bool:
        """Whether repeating the same call may succeed."""
        return self.status in RETRYABLE_STATUSES

    def __str__(self) -> str:
        head = f"{self.status} {self.title}" if self.status is not None else self.title
        text = f"{head}: {self.detail}" if self.detail else head
        if self.field_violations:
            text += " (" + "; ".join(f"{v.field}: {v.description}" for v in self.field_violations)
            text += ")"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


class MinimaTransportError(MinimaError):
    """The server could not be reached or did not answer in time."""

    def __init__(self, detail: str, *, request_id: str | None = None) -> None:
        super().__init__(status=None, title="Transport error", detail=detail, request_id=request_id)

    @property
    def retryable(self) -> bool:
        return True


class MinimaResponseError(MinimaError):
    """The server answered successfully but not in the documented shape."""
