"""What autocapture records about one LLM call, and where it keeps it.

Responses are read by shape, not by type, so one reader serves the OpenAI
(chat completions and responses), Anthropic and LiteLLM result objects, and
plain dicts of the same JSON.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..models import RecommendResponse
from ._pricing import PriceBook

HISTORY_SIZE = 256


@dataclass(frozen=True, slots=True)
class CapturedCall:
    """One LLM call seen by autocapture.

    `model` is the model the caller asked for; `response_model` the one the
    provider reports (often a dated snapshot of it). Token counts are None when
    the provider did not report usage (e.g. streamed responses), `cost_usd`
    when neither the provider nor a known price gives it. `error` is the
    exception class name when the call raised.
    """

    provider: str
    model: str
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    cost_usd: float | None
    latency_ms: int
    error: str | None = None


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def response_text(response: Any) -> str:
    """The assistant text of a chat completion, a responses-API answer or an
    Anthropic message ("" when there is none)."""
    choices = _get(response, "choices")
    if isinstance(choices, list) and choices:
        content = _get(_get(choices[0], "message"), "content")
        return content if isinstance(content, str) else ""
    output_text = _get(response, "output_text")
    if isinstance(output_text, str):
        return output_text
    blocks = _get(response, "content")
    if isinstance(blocks, list):
        return "".join(t for b in blocks if isinstance(t := _get(b, "text"), str))
    return ""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None


def read_usage(response: Any) -> Usage:
    """Token usage from an OpenAI, Anthropic or LiteLLM response (or its JSON)."""
    usage = _get(response, "usage")
    if usage is None:
        return Usage(None, None, None)
    prompt = _int(_get(usage, "prompt_tokens"))
    if prompt is not None:  # OpenAI chat completions / LiteLLM: cached tokens are included
        details = _get(usage, "prompt_tokens_details")
        cached = _int(_get(details, "cached_tokens")) if details is not None else None
        return Usage(prompt, _int(_get(usage, "completion_tokens")), cached)
    inputs = _int(_get(usage, "input_tokens"))
    outputs = _int(_get(usage, "output_tokens"))
    # Anthropic counts cache reads and writes apart from input_tokens.
    cache_read = _int(_get(usage, "cache_read_input_tokens"))
    cache_write = _int(_get(usage, "cache_creation_input_tokens"))
    if inputs is not None and (cache_read or cache_write):
        return Usage(inputs + (cache_read or 0) + (cache_write or 0), outputs, cache_read)
    details = _get(usage, "input_tokens_details")  # OpenAI responses API
    cached = _int(_get(details, "cached_tokens")) if details is not None else None
    return Usage(inputs, outputs, cached)


def build_call(
    provider: str,
    requested_model: Any,
    response: Any,
    latency_ms: int,
    prices: PriceBook,
    *,
    error: BaseException | None = None,
    reported_cost: float | None = None,
) -> CapturedCall:
    """A CapturedCall from what the SDK was asked and what it returned."""
    usage = read_usage(response) if response is not None else Usage(None, None, None)
    response_model = _get(response, "model") if response is not None else None
    model = str(requested_model or response_model or "unknown")
    cost = reported_cost
    if cost is None and usage.input_tokens is not None and usage.output_tokens is not None:
        cost = prices.cost(
            model, usage.input_tokens, usage.output_tokens, usage.cached_input_tokens or 0
        )
    return CapturedCall(
        provider=provider,
        model=model,
        response_model=response_model if isinstance(response_model, str) else None,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cost_usd=cost,
        latency_ms=latency_ms,
        error=type(error).__name__ if error is not None else None,
    )


@dataclass(slots=True)
class Pending:
    """A recommendation waiting for its outcome, and the calls made since."""

    recommendation: RecommendResponse
    calls: list[CapturedCall] = field(default_factory=list)


class Recorder:
    """Keeps the recent calls of the process and attributes each to the
    recommendation pending in the caller's context (thread or asyncio task)."""

    def __init__(self) -> None:
        self._history: deque[CapturedCall] = deque(maxlen=HISTORY_SIZE)
        self._lock = threading.Lock()
        self._pending: ContextVar[Pending | None] = ContextVar("minima_pending", default=None)

    def record(self, call: CapturedCall) -> None:
        with self._lock:
            self._history.append(call)
        pending = self._pending.get()
        if pending is not None:
            pending.calls.append(call)

    def history(self) -> tuple[CapturedCall, ...]:
        with self._lock:
            return tuple(self._history)

    def begin(self, recommendation: RecommendResponse) -> None:
        """Make `recommendation` the one later calls in this context report on."""
        self._pending.set(Pending(recommendation))

    def pending(self) -> Pending | None:
        return self._pending.get()

    def finish(self, pending: Pending) -> None:
        """The outcome of `pending` is in: later calls belong to the next one."""
        if self._pending.get() is pending:
            self._pending.set(None)
