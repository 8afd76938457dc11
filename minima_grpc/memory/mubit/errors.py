"""Turn whatever the Mubit SDK raises into the domain's errors.

The engine knows three outcomes of a memory call: the key was rejected
(`Unauthenticated`, a 401 to the caller), the call was too slow
(`TimeoutError`, prior-only with `recall_timeout`), or the backend is broken
(`MubitUnavailable`, prior-only with `memory_unavailable`). Messages name the
operation and the HTTP status, never the key or Mubit's response body (which
may echo request data).
"""

from __future__ import annotations

import mubit

from minima_grpc.engine.errors import BackendUnavailable, Unauthenticated

# SDK transport codes that mean "a deadline passed", as opposed to "refused".
_DEADLINE_CODES = frozenset({"DEADLINE_EXCEEDED", "TIMEOUT"})


class MubitUnavailable(BackendUnavailable):
    """Mubit could not serve a call: unreachable, erroring, or answering garbage.

    `label` is a short machine-readable cause for logs and metrics:
    `unreachable`, `server_error`, `rejected_payload`, `unsupported` or
    `bad_response`.
    """

    def __init__(self, operation: str, label: str, detail: str) -> None:
        super().__init__(f"mubit {operation}: {label} ({detail})")
        self.operation = operation
        self.label = label


def bad_response(operation: str, detail: str) -> MubitUnavailable:
    """Mubit answered 2xx with something that is not the documented shape."""
    return MubitUnavailable(operation, "bad_response", detail)


def translate(operation: str, exc: BaseException) -> Exception:
    """The domain exception to raise for an SDK failure of `operation`."""
    if isinstance(exc, mubit.AuthenticationError | mubit.PermissionDeniedError):
        return Unauthenticated("the Mubit API key was rejected")
    if isinstance(exc, mubit.APITimeoutError) or (
        isinstance(exc, mubit.APIConnectionError) and getattr(exc, "code", None) in _DEADLINE_CODES
    ):
        return TimeoutError(f"mubit {operation}: deadline exceeded")
    if isinstance(exc, mubit.APIConnectionError):
        return MubitUnavailable(operation, "unreachable", type(exc).__name__)
    if isinstance(exc, mubit.UnsupportedFeatureError):
        return MubitUnavailable(operation, "unsupported", "HTTP 501")
    if isinstance(exc, mubit.APIStatusError):
        status = exc.status_code or 0
        if status == 501:
            label = "unsupported"
        elif status >= 500 or status == 429:
            label = "server_error"
        else:
            label = "rejected_payload"
        return MubitUnavailable(operation, label, f"HTTP {status}")
    # JSON decoding errors and the like: the server broke the contract.
    return bad_response(operation, type(exc).__name__)
