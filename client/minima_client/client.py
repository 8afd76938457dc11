"""`MinimaClient` (blocking) and `AsyncMinimaClient` (asyncio).

Both expose the same methods, built from the functions in `_calls`, so their
signatures, validation and models cannot drift apart. The transport follows
the URL scheme:

- `http://` / `https://`: the REST `/v1` API (the default, and the documented
  contract);
- `grpc://host:port` (plaintext) / `grpcs://host:port` (TLS): the gRPC API, for
  callers inside the service mesh; needs the `grpc` extra
  (`pip install "minima-client[grpc]"`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar
from urllib.parse import urlsplit

from . import _calls, _retry
from ._calls import JSON, Call
from ._http import AsyncHttpTransport, SyncHttpTransport
from ._retry import RetryPolicy
from ._version import __version__

P = ParamSpec("P")
T = TypeVar("T")

USER_AGENT = f"minima-client/{__version__}"
_SCHEMES = {"http": "rest", "https": "rest", "grpc": "grpc", "grpcs": "grpc"}


class _SyncTransport(Protocol):
    def send(self, call: Call[Any], request_id: str) -> JSON: ...
    def close(self) -> None: ...


class _AsyncTransport(Protocol):
    async def send(self, call: Call[Any], request_id: str) -> JSON: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Endpoint:
    kind: str  # "rest" | "grpc"
    url: str  # REST base URL, or gRPC target host:port
    secure: bool


def _parse_endpoint(base_url: str) -> _Endpoint:
    parts = urlsplit(base_url.strip())
    kind = _SCHEMES.get(parts.scheme.lower())
    if kind is None or not parts.netloc:
        raise ValueError(
            f"base_url must be http(s)://host[/prefix] or grpc(s)://host:port, got {base_url!r}"
        )
    secure = parts.scheme.lower() in ("https", "grpcs")
    if kind == "rest":
        return _Endpoint("rest", base_url.strip().rstrip("/"), secure)
    if parts.path.strip("/"):
        raise ValueError(f"a gRPC base_url takes no path, got {base_url!r}")
    return _Endpoint("grpc", parts.netloc, secure)


def _check_settings(api_key: str, timeout: float) -> None:
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValueError("api_key is required (your key, sent as 'Authorization: Bearer <key>')")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")


def _grpc_module() -> Any:
    try:
        from ._grpc import transport
    except ImportError as exc:  # grpcio/protobuf are an optional extra
        raise ImportError(
            'the gRPC transport needs grpcio and protobuf: pip install "minima-client[grpc]"'
        ) from exc
    return transport


def _new_request_id() -> str:
    return uuid.uuid4().hex


def _sync_method(build: Callable[P, Call[T]]) -> Callable[Concatenate[MinimaClient, P], T]:
    @functools.wraps(build)
    def method(self: MinimaClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._invoke(build(*args, **kwargs))

    return method


def _async_method(
    build: Callable[P, Call[T]],
) -> Callable[Concatenate[AsyncMinimaClient, P], Coroutine[Any, Any, T]]:
    @functools.wraps(build)
    async def method(self: AsyncMinimaClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._invoke(build(*args, **kwargs))

    return method


class MinimaClient:
    """Blocking Minima client; use it as a context manager or call `close()`.

    `api_key` is sent as `Authorization: Bearer <key>` on every call.
    `timeout` bounds each attempt in seconds. Transport failures and
    502/503/504 answers are retried up to `max_retries` times with exponential
    backoff starting at `backoff` seconds; other errors raise at once.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        _check_settings(api_key, timeout)
        endpoint = _parse_endpoint(base_url)
        self.base_url = base_url
        self._retry = RetryPolicy(max_retries=max_retries, backoff=backoff)
        self._transport: _SyncTransport = (
            SyncHttpTransport(endpoint.url, api_key, timeout, USER_AGENT)
            if endpoint.kind == "rest"
            else _grpc_module().SyncGrpcTransport(
                endpoint.url, endpoint.secure, api_key, timeout, USER_AGENT
            )
        )

    def _invoke(self, call: Call[T]) -> T:
        # One request id per logical call, repeated on every retry.
        request_id = _new_request_id()
        data = _retry.run(self._retry, lambda: self._transport.send(call, request_id))
        return call.decode(data, request_id=request_id)

    recommend = _sync_method(_calls.recommend)
    recommend_workflow = _sync_method(_calls.recommend_workflow)
    feedback = _sync_method(_calls.feedback)
    models = _sync_method(_calls.models)
    strategies = _sync_method(_calls.strategies)
    health = _sync_method(_calls.health)

    def close(self) -> None:
        """Release the connection pool (or channel)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncMinimaClient:
    """Asyncio Minima client: the same methods as `MinimaClient`, awaited.

    Use it as an async context manager or call `await aclose()`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        _check_settings(api_key, timeout)
        endpoint = _parse_endpoint(base_url)
        self.base_url = base_url
        self._retry = RetryPolicy(max_retries=max_retries, backoff=backoff)
        self._transport: _AsyncTransport = (
            AsyncHttpTransport(endpoint.url, api_key, timeout, USER_AGENT)
            if endpoint.kind == "rest"
            else _grpc_module().AsyncGrpcTransport(
                endpoint.url, endpoint.secure, api_key, timeout, USER_AGENT
            )
        )

    async def _invoke(self, call: Call[T]) -> T:
        request_id = _new_request_id()
        data = await _retry.arun(self._retry, lambda: self._transport.send(call, request_id))
        return call.decode(data, request_id=request_id)

    recommend = _async_method(_calls.recommend)
    recommend_workflow = _async_method(_calls.recommend_workflow)
    feedback = _async_method(_calls.feedback)
    models = _async_method(_calls.models)
    strategies = _async_method(_calls.strategies)
    health = _async_method(_calls.health)

    async def aclose(self) -> None:
        """Release the connection pool (or channel)."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
