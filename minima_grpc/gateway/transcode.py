"""One route's request handling: HTTP -> request message -> gRPC -> JSON or problem.

No per-RPC code: the call is a generic unary-unary callable built from the
route's descriptors, so auth, logging, metrics, deadlines and error mapping run
once, in the gRPC server, for both transports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import Response

from minima_grpc.gateway import headers
from minima_grpc.gateway.jsonmap import JSON, MappingError, message_from_json
from minima_grpc.gateway.jsonmap import message_to_json as to_json
from minima_grpc.gateway.problem import Problem, from_rpc_error, invalid_request
from minima_grpc.gateway.query import message_from_query
from minima_grpc.gateway.routes import Route


@dataclass(frozen=True, slots=True)
class Limits:
    """What the adapter enforces before any call (mirrors the server's settings)."""

    max_body_bytes: int
    default_timeout_s: float
    max_timeout_s: float


class RejectedError(Exception):
    """Raised while reading a request that must not reach the server."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


# Builds the answer for an RPC that must always answer (see app.ALWAYS_ANSWERS).
Fallback = Callable[[], Message]


class RpcEndpoint:
    """The Starlette endpoint for one route."""

    def __init__(
        self,
        route: Route,
        channel: grpc.aio.Channel,
        limits: Limits,
        fallback: Fallback | None = None,
    ) -> None:
        self.route = route
        self.limits = limits
        self.fallback = fallback
        self.call = channel.unary_unary(
            route.rpc_path,
            request_serializer=route.request_class.SerializeToString,
            response_deserializer=route.response_class.FromString,
        )

    async def __call__(self, request: Request) -> Response:
        rid: str = request.state.request_id
        try:
            timeout = headers.call_timeout(
                request.headers, self.limits.default_timeout_s, self.limits.max_timeout_s
            )
        except ValueError as exc:  # a malformed Grpc-Timeout
            return invalid_request((), str(exc), rid).response()
        try:
            message = await self._request_message(request, rid)
        except RejectedError as rejected:
            return rejected.problem.response()
        call = self.call(
            message, timeout=timeout, metadata=headers.call_metadata(request.headers, rid)
        )
        try:
            reply = await call
        except grpc.aio.AioRpcError as error:
            rid = _adopt_request_id(request, error.initial_metadata())
            if self.fallback is None:
                return from_rpc_error(error, rid).response()
            reply = self.fallback()
        else:
            _adopt_request_id(request, await call.initial_metadata())
        return json_response(to_json(reply))

    async def _request_message(self, request: Request, rid: str) -> Message:
        route = self.route
        try:
            if route.has_body:
                return message_from_json(
                    await read_json(request, self.limits, rid), route.request_class
                )
            return message_from_query(request.query_params.multi_items(), route.request_class)
        except MappingError as exc:
            raise RejectedError(invalid_request(exc.violations, str(exc), rid)) from None


def _adopt_request_id(request: Request, metadata: grpc.aio.Metadata | None) -> str:
    """Echo the id the server used (it is what its logs show), if it sent one."""
    server_id = metadata.get(headers.REQUEST_ID) if metadata is not None else None
    if isinstance(server_id, str) and server_id:
        request.state.request_id = server_id
    rid: str = request.state.request_id
    return rid


def json_response(body: JSON, status: int = 200) -> Response:
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(content, status, media_type="application/json")


async def read_json(request: Request, limits: Limits, rid: str) -> JSON:
    """The parsed body; RejectedError with 415, 413 or 400 before anything is decoded."""
    if not _is_json(request.headers.get("content-type", "")):
        raise RejectedError(
            Problem(415, "Unsupported media type", "send Content-Type: application/json", rid)
        )
    body = await _read_limited(request, limits.max_body_bytes, rid)
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants)  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        detail = "the request body is not UTF-8"
    except (ValueError, RecursionError) as exc:
        detail = f"malformed JSON: {exc}"
    raise RejectedError(invalid_request((), detail, rid))


def _is_json(content_type: str) -> bool:
    media, _, parameters = content_type.partition(";")
    if media.strip().lower() != "application/json":
        return False
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    return charset == "utf-8"


async def _read_limited(request: Request, limit: int, rid: str) -> bytes:
    too_large = RejectedError(
        Problem(413, "Content too large", f"the request body is over {limit} bytes", rid)
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
