"""REST transport: a `Call` over HTTP/JSON (the documented `/v1` contract)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ._calls import JSON, Call
from .errors import (
    FieldViolation,
    MinimaError,
    MinimaResponseError,
    MinimaTransportError,
    title_for,
)

REQUEST_ID_HEADER = "x-request-id"


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def request_args(call: Call[Any], request_id: str) -> dict[str, Any]:
    """Keyword arguments for `httpx.Client.build_request` (sync and async alike)."""
    args: dict[str, Any] = {
        "method": call.http_method,
        "url": call.path,
        "headers": {REQUEST_ID_HEADER: request_id},
    }
    if call.http_method == "GET":
        # Repeated fields become repeated parameters (?lesson_types=a&lesson_types=b).
        args["params"] = [
            (name, _query_value(item))
            for name, value in call.payload.items()
            for item in (value if isinstance(value, list) else [value])
        ]
    else:
        args["json"] = call.payload
    return args


def grpc_timeout(seconds: float) -> str:
    """A Grpc-Timeout header value (at most 8 digits and a unit)."""
    millis = max(1, round(seconds * 1000))
    return f"{millis}m" if millis < 10**8 else f"{min(round(seconds), 10**8 - 1)}S"


def client_args(base_url: str, api_key: str, timeout: float, user_agent: str) -> dict[str, Any]:
    """Keyword arguments for `httpx.Client` / `httpx.AsyncClient`.

    `grpc-timeout` tells the gateway our deadline, so the server stops working
    on a call the client has given up on.
    """
    return {
        "base_url": base_url,
        "timeout": timeout,
        "headers": {
            "authorization": f"Bearer {api_key}",
            "user-agent": user_agent,
            "grpc-timeout": grpc_timeout(timeout),
        },
    }


def transport_error(exc: httpx.RequestError, request_id: str) -> MinimaTransportError:
    """A request that got no HTTP answer."""
    return MinimaTransportError(
        f"{type(exc).__name__}: {exc or 'no details'}", request_id=request_id
    )


def read_response(response: httpx.Response, sent_request_id: str) -> JSON:
    """The JSON body of a 2xx answer; raise MinimaError for anything else."""
    request_id = response.headers.get(REQUEST_ID_HEADER) or sent_request_id
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.is_success:
        if not isinstance(body, dict):
            raise MinimaResponseError(
                status=response.status_code,
                title="Unexpected response",
                detail=f"expected a JSON object, got {response.text[:200]!r}",
                request_id=request_id,
            )
        return body
    raise _problem(response, body, request_id)


def _problem(response: httpx.Response, body: Any, request_id: str) -> MinimaError:
    """Build the error from a problem+json body, tolerating any other body."""
    status = response.status_code
    if not isinstance(body, dict):
        return MinimaError(
            status=status,
            title=title_for(status),
            detail=response.text[:500].strip(),
            request_id=request_id,
        )
    detail = body.get("detail", "")
    violations = body.get("field_violations")
    return MinimaError(
        status=status,
        title=str(body.get("title") or title_for(status)),
        detail=detail if isinstance(detail, str) else json.dumps(detail),
        request_id=str(body.get("request_id") or request_id),
        type=str(body.get("type") or "about:blank"),
        reason=body.get("reason") if isinstance(body.get("reason"), str) else None,
        field_violations=tuple(
            FieldViolation(str(v.get("field", "")), str(v.get("description", "")))
            for v in (violations if isinstance(violations, list) else [])
            if isinstance(v, dict)
        ),
        body=body,
    )


class SyncHttpTransport:
    """Blocking REST transport over one pooled `httpx.Client`."""

    def __init__(self, base_url: str, api_key: str, timeout: float, user_agent: str) -> None:
        self._client = httpx.Client(**client_args(base_url, api_key, timeout, user_agent))

    def send(self, call: Call[Any], request_id: str) -> JSON:
        request = self._client.build_request(**request_args(call, request_id))
        try:
            response = self._client.send(request)
        except httpx.RequestError as exc:
            raise transport_error(exc, request_id) from exc
        return read_response(response, request_id)

    def close(self) -> None:
        self._client.close()


class AsyncHttpTransport:
    """Asyncio REST transport over one pooled `httpx.AsyncClient`."""

    def __init__(self, base_url: str, api_key: str, timeout: float, user_agent: str) -> None:
        self._client = httpx.AsyncClient(**client_args(base_url, api_key, timeout, user_agent))

    async def send(self, call: Call[Any], request_id: str) -> JSON:
        request = self._client.build_request(**request_args(call, request_id))
        try:
            response = await self._client.send(request)
        except httpx.RequestError as exc:
            raise transport_error(exc, request_id) from exc
        return read_response(response, request_id)

    async def close(self) -> None:
        await self._client.aclose()
