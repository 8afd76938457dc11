"""HTTP headers -> gRPC call metadata and timeout (grpc-gateway semantics).

Forwarded: `Authorization` as `authorization`, and the request id as
`x-request-id` (the caller's `X-Request-Id` when it is a sane token, a fresh one
otherwise; echoed on every response). `Grpc-Timeout` (gRPC's own format: up to
8 digits and a unit H, M, S, m, u or n, e.g. `500m`, `2S`) sets the call
timeout, capped at the configured maximum; without it the configured default
applies, so every call has a deadline. Every other header is dropped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

REQUEST_ID = "x-request-id"
# The server's rule too (interceptors/request_id.py); the gateway still echoes
# whatever id the server reports using.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_METADATA_VALUE = re.compile(r"[\x20-\x7e]*")
_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_UNIT_SECONDS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}

Metadata = tuple[tuple[str, str], ...]


def request_id(headers: Mapping[str, str]) -> str:
    """The caller's X-Request-Id if it is a short token, else a new one."""
    given = headers.get(REQUEST_ID, "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def call_timeout(headers: Mapping[str, str], default_s: float, max_s: float) -> float:
    """Seconds for the gRPC call; ValueError when Grpc-Timeout is malformed."""
    given = headers.get("grpc-timeout")
    if given is None:
        return min(default_s, max_s)
    match = _TIMEOUT.fullmatch(given.strip())
    if match is None:
        raise ValueError("Grpc-Timeout must be 1-8 digits and a unit H, M, S, m, u or n")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds <= 0:
        raise ValueError("Grpc-Timeout must be positive")
    return min(seconds, max_s)


def call_metadata(headers: Mapping[str, str], request_id: str) -> Metadata:
    """What the gRPC call carries: authorization (when well-formed) and the request id."""
    authorization = headers.get("authorization")
    # A value gRPC cannot carry is dropped; the server then answers 401.
    if authorization and _METADATA_VALUE.fullmatch(authorization):
        return (("authorization", authorization), (REQUEST_ID, request_id))
    return ((REQUEST_ID, request_id),)
