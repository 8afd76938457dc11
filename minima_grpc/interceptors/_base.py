"""A small base for grpc.aio server interceptors that wrap the whole call.

grpc.aio interceptors only see the method name and metadata and must return a
(possibly new) RpcMethodHandler. Subclasses here implement one coroutine,
`around(call)`, which runs inside the call and awaits `call.proceed()`; the base
rebuilds the handler with the matching factory for each streaming kind. A
streaming response is written through `context.write`, so async-generator and
coroutine handlers (reflection, health Watch) are wrapped alike.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"


@dataclass(frozen=True, slots=True)
class Call:
    """One RPC as an interceptor sees it."""

    method: str  # "/minima.v1.RecommendationService/Recommend"
    context: Context
    unary: bool  # neither side streams
    proceed: Callable[[], Awaitable[Any]]

    @property
    def service(self) -> str:
        return self.method.rsplit("/", 2)[-2]

    @property
    def method_name(self) -> str:
        return self.method.rsplit("/", 1)[-1]


class AroundInterceptor(grpc.aio.ServerInterceptor, abc.ABC):
    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED itself
            return None
        # grpc asks on every call; reuse the wrapper while the inner handler is
        # the same object (one entry per method, so the cache stays bounded).
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            cached = (handler, _wrap(handler, method, self.around))
            self._wrapped[method] = cached
        return cached[1]

    @abc.abstractmethod
    async def around(self, call: Call) -> Any:
        """Run around the call; return what `await call.proceed()` returned."""


class CompletionInterceptor(AroundInterceptor):
    """Observes every finished call: its final status code and duration."""

    async def around(self, call: Call) -> Any:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return await call.proceed()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.completed(call, final_code(call.context, error), time.perf_counter() - started)

    @abc.abstractmethod
    def completed(self, call: Call, code: grpc.StatusCode, elapsed_s: float) -> None:
        """Called once per call, after it finished (even when it failed)."""


def final_code(context: Context, error: BaseException | None) -> grpc.StatusCode:
    """The status a finished call ended with, as the client will see it."""
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    code = context.code()
    if code is not None:
        return code
    # An exception that escaped every interceptor surfaces as UNKNOWN.
    return grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN


_FACTORIES = {
    (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
    (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
    (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
    (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
}


def _wrap(handler: Handler, method: str, around: Callable[[Call], Awaitable[Any]]) -> Handler:
    kind = (handler.request_streaming, handler.response_streaming)
    attribute, factory = _FACTORIES[kind]
    behaviour: Callable[[Any, Context], Any] = getattr(handler, attribute)
    unary = kind == (False, False)

    if handler.response_streaming:

        async def wrapped(request: Any, context: Context) -> Any:
            async def proceed() -> None:
                result = behaviour(request, context)
                if inspect.isasyncgen(result):
                    async for message in result:
                        await context.write(message)
                elif inspect.isawaitable(result):
                    await result

            return await around(Call(method, context, unary, proceed))

    else:

        async def wrapped(request: Any, context: Context) -> Any:
            async def proceed() -> Any:
                result = behaviour(request, context)
                return await result if inspect.isawaitable(result) else result

            return await around(Call(method, context, unary, proceed))

    return factory(
        wrapped,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
