"""gRPC transport: a `Call` as a unary RPC of minima.v1.RecommendationService.

Requests and responses cross the channel as bytes; the codec does the
protobuf work, so the sync and async transports differ only in the channel.
"""

from __future__ import annotations

from typing import Any

import grpc
import grpc.aio

from .._calls import JSON, Call
from ..errors import MinimaError
from . import codec


def _metadata(api_key: str, request_id: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {api_key}"), ("x-request-id", request_id))


def _options(user_agent: str) -> list[tuple[str, Any]]:
    return [("grpc.primary_user_agent", user_agent)]


def _error(exc: grpc.RpcError, request_id: str) -> MinimaError:
    call: Any = exc  # every RpcError raised by a unary call is also a grpc.Call
    return codec.error_from_status(
        call.code().name,
        call.details() or "",
        call.trailing_metadata(),
        call.initial_metadata(),
        request_id,
    )


class SyncGrpcTransport:
    """Blocking gRPC transport over one channel."""

    def __init__(
        self, target: str, secure: bool, api_key: str, timeout: float, user_agent: str
    ) -> None:
        options = _options(user_agent)
        self._channel = (
            grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=options)
            if secure
            else grpc.insecure_channel(target, options=options)
        )
        self._api_key = api_key
        self._timeout = timeout

    def send(self, call: Call[Any], request_id: str) -> JSON:
        method: grpc.UnaryUnaryMultiCallable[bytes, bytes] = self._channel.unary_unary(
            codec.method_path(call.rpc)
        )
        try:
            data = method(
                codec.encode_request(call.rpc, call.payload),
                timeout=self._timeout,
                metadata=_metadata(self._api_key, request_id),
            )
        except grpc.RpcError as exc:
            raise _error(exc, request_id) from None
        return codec.decode_response(call.rpc, data)

    def close(self) -> None:
        self._channel.close()


class AsyncGrpcTransport:
    """Asyncio gRPC transport. The channel is opened on first use, inside the
    event loop that will drive it, so the client can be built anywhere."""

    def __init__(
        self, target: str, secure: bool, api_key: str, timeout: float, user_agent: str
    ) -> None:
        self._target = target
        self._secure = secure
        self._api_key = api_key
        self._timeout = timeout
        self._user_agent = user_agent
        self._channel: grpc.aio.Channel | None = None

    def _open(self) -> grpc.aio.Channel:
        if self._channel is None:
            options = _options(self._user_agent)
            self._channel = (
                grpc.aio.secure_channel(
                    self._target, grpc.ssl_channel_credentials(), options=options
                )
                if self._secure
                else grpc.aio.insecure_channel(self._target, options=options)
            )
        return self._channel

    async def send(self, call: Call[Any], request_id: str) -> JSON:
        method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._open().unary_unary(
            codec.method_path(call.rpc)
        )
        try:
            data = await method(
                codec.encode_request(call.rpc, call.payload),
                timeout=self._timeout,
                metadata=_metadata(self._api_key, request_id),
            )
        except grpc.RpcError as exc:
            raise _error(exc, request_id) from None
        return codec.decode_response(call.rpc, data)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
