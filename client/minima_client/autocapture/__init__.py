"""Zero-code intake: record every LLM call and report outcomes to Minima.

    from minima_client import MinimaClient, autocapture

    minima = MinimaClient("http://127.0.0.1:8080", api_key="...")
    autocapture.enable(minima=minima, namespace="team-payments")
    rec = autocapture.recommend("Summarize this incident report.")
    openai_client.chat.completions.create(model=rec.recommended_model.model_id, ...)
    autocapture.feedback(good=True)   # reports the captured model, tokens, cost, latency
    autocapture.disable()

Every OpenAI (chat completions, responses), Anthropic (messages) and LiteLLM
call made while enabled is captured: model, tokens, cost (from the Minima
catalog or the `prices` given to `enable`) and latency. `feedback()` reports
the last call made since `recommend()` in the same thread or asyncio task
against that recommendation, so Minima learns from real usage.

With a Mubit endpoint or key (`enable(api_key=..., endpoint=...)`, needs
mubit-sdk) the same calls also go through `mubit.learn`, pinned to Minima's
lane `minima:<namespace>`, and `feedback()` credits the recalled memories too.

Importing this module never needs an LLM SDK or mubit-sdk; only the features
that use one ask for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..client import AsyncMinimaClient, MinimaClient
from ..models import FeedbackResponse, Outcome, RecommendResponse
from . import _patch
from ._mubit import MubitLearn, lane_for
from ._pricing import ModelPrice, PriceBook
from ._record import CapturedCall, Pending, Recorder, build_call, response_text

__all__ = [
    "AutocaptureError",
    "CapturedCall",
    "ModelPrice",
    "afeedback",
    "arecommend",
    "calls",
    "capture",
    "disable",
    "enable",
    "feedback",
    "is_enabled",
    "lane_for",
    "last_call",
    "recommend",
    "wrap",
]

logger = logging.getLogger("minima_client.autocapture")


class AutocaptureError(RuntimeError):
    """autocapture was used in a way it cannot serve (not enabled, nothing to report...)."""


@dataclass(slots=True)
class _Session:
    minima: MinimaClient | AsyncMinimaClient | None
    namespace: str | None
    user_id: str | None
    prices: PriceBook
    patched_globally: bool
    mubit: MubitLearn | None
    # A fresh recorder per session: pending recommendations of an earlier
    # session (in any thread) can never be reported by a later one.
    recorder: Recorder = field(default_factory=Recorder)
    patches: list[_patch.Restorable] = field(default_factory=list)


_lock = threading.Lock()
_session: _Session | None = None


def _active() -> _Session:
    session = _session
    if session is None:
        raise AutocaptureError("autocapture is not enabled: call autocapture.enable(...) first")
    return session


def _on_call(
    provider: str,
    model: Any,
    response: Any,
    latency_ms: int,
    error: BaseException | None,
    reported_cost: float | None,
) -> None:
    session = _session
    if session is None:  # a call finishing after disable()
        return
    session.recorder.record(
        build_call(
            provider,
            model,
            response,
            latency_ms,
            session.prices,
            error=error,
            reported_cost=reported_cost,
        )
    )


def _price_book(prices: Mapping[str, ModelPrice | tuple[float, float]] | None) -> PriceBook:
    given = {
        model: price if isinstance(price, ModelPrice) else ModelPrice(*price)
        for model, price in (prices or {}).items()
    }
    return PriceBook(given)


def enable(
    api_key: str | None = None,
    endpoint: str | None = None,
    namespace: str | None = None,
    user_id: str | None = None,
    *,
    minima: MinimaClient | AsyncMinimaClient | None = None,
    prices: Mapping[str, ModelPrice | tuple[float, float]] | None = None,
    patch: bool = True,
    inject_lessons: bool = True,
    **learn_options: Any,
) -> None:
    """Start capturing LLM calls.

    - `minima`: a Minima client; enables `recommend()`/`feedback()` reporting
      and prices calls from its catalog.
    - `api_key` / `endpoint`: your Mubit key and endpoint; either one turns on
      the `mubit.learn` layer (needs mubit-sdk). `inject_lessons` and any
      other keyword go to `mubit.learn.init`.
    - `namespace`, `user_id`: scope of the recommendations and of the Mubit
      lane (`minima:<namespace>`).
    - `prices`: model id -> ModelPrice or (input, output) USD per million
      tokens; wins over the catalog.
    - `patch=False`: capture only the clients passed to `wrap()`.

    Calling `enable` again replaces the previous configuration.
    """
    global _session
    disable()
    mubit = None
    if api_key is not None or endpoint is not None:
        mubit = MubitLearn(
            api_key=api_key,
            endpoint=endpoint,
            namespace=namespace,
            user_id=user_id,
            patch=patch,
            inject_lessons=inject_lessons,
            options=learn_options,
        )
    elif learn_options:
        raise TypeError(f"unexpected options without Mubit: {sorted(learn_options)}")
    session = _Session(minima, namespace, user_id, _price_book(prices), patch, mubit)
    with _lock:
        _session = session
        if patch:
            session.patches.extend(_patch.patch_classes(_on_call))


def disable() -> None:
    """Stop capturing and put every patched method back as it was. Idempotent."""
    global _session
    with _lock:
        session, _session = _session, None
        if session is None:
            return
        for patch in reversed(session.patches):
            patch.restore()
    if session.mubit is not None:
        session.mubit.close()


def is_enabled() -> bool:
    """Whether autocapture is on."""
    return _session is not None


def wrap(client: Any) -> Any:
    """Capture the calls of one OpenAI or Anthropic client (returned as is).

    Needed only with `enable(patch=False)`, or to give a client made before
    `enable()` the Mubit lesson injection. `disable()` undoes it.
    """
    session = _active()
    if session.mubit is not None:
        # mubit.learn wraps on the instance: remember it as it was, to undo.
        before = _patch.snapshot(client)
        client = session.mubit.wrap(client)
        with _lock:
            session.patches.extend(before)
    if not session.patched_globally:
        with _lock:
            session.patches.extend(_patch.patch_instance(client, _on_call))
    return client


def capture(
    messages: Sequence[Mapping[str, Any]],
    response: Any,
    *,
    model: str | None = None,
    provider: str = "manual",
    latency_ms: int = 0,
) -> CapturedCall:
    """Record a call made outside the patched SDKs (raw HTTP, other libraries).

    `response` is the assistant's text, or a provider response object or its
    JSON (usage and model are read from it). Returns the captured call.
    """
    session = _active()
    text = response if isinstance(response, str) else None
    body = None if text is not None else response
    call = build_call(provider, model, body, latency_ms, session.prices)
    session.recorder.record(call)
    if session.mubit is not None:
        reply = text if text is not None else response_text(response)
        session.mubit.capture([dict(m) for m in messages], reply, call.model)
    return call


def calls() -> tuple[CapturedCall, ...]:
    """The calls captured since `enable()` (the latest 256), oldest first."""
    session = _session
    return session.recorder.history() if session is not None else ()


def last_call() -> CapturedCall | None:
    """The most recently captured call, if any."""
    history = calls()
    return history[-1] if history else None


# -- recommendations and outcomes -------------------------------------------------


def _sync_minima(session: _Session) -> MinimaClient:
    if not isinstance(session.minima, MinimaClient):
        raise AutocaptureError(
            "this needs enable(minima=MinimaClient(...)); with an AsyncMinimaClient "
            "use the awaitable arecommend()/afeedback()"
        )
    return session.minima


def _async_minima(session: _Session) -> AsyncMinimaClient:
    if not isinstance(session.minima, AsyncMinimaClient):
        raise AutocaptureError(
            "this needs enable(minima=AsyncMinimaClient(...)); with a MinimaClient "
            "use recommend()/feedback()"
        )
    return session.minima


def _scoped(session: _Session, kwargs: dict[str, Any]) -> dict[str, Any]:
    kwargs.setdefault("namespace", session.namespace)
    kwargs.setdefault("user_id", session.user_id)
    return kwargs


def recommend(task: Any, **kwargs: Any) -> RecommendResponse:
    """`MinimaClient.recommend` with the enabled namespace and user; the calls
    that follow in this thread or task are reported against its answer."""
    session = _active()
    minima = _sync_minima(session)
    if not session.prices.catalog_loaded:
        session.prices.load_catalog(minima.models().models)
    rec = minima.recommend(task, **_scoped(session, kwargs))
    session.recorder.begin(rec)
    return rec


async def arecommend(task: Any, **kwargs: Any) -> RecommendResponse:
    """Async twin of `recommend`, for an AsyncMinimaClient."""
    session = _active()
    minima = _async_minima(session)
    if not session.prices.catalog_loaded:
        session.prices.load_catalog((await minima.models()).models)
    rec = await minima.recommend(task, **_scoped(session, kwargs))
    session.recorder.begin(rec)
    return rec


def _signal(score: float | None, good: bool | None) -> tuple[Outcome, float | None]:
    """(outcome, quality) for a thumbs up/down or a score in [-1, 1]."""
    if good is not None:
        if score is not None:
            raise ValueError("give good=True/False or a score, not both")
        return ("success" if good else "failure"), None
    if score is None:
        raise ValueError("give good=True/False or a score in [-1, 1]")
    if not -1.0 <= score <= 1.0:
        raise ValueError(f"score must be in [-1, 1], got {score!r}")
    quality = (score + 1.0) / 2.0
    outcome: Outcome = "success" if quality >= 0.8 else "partial" if quality >= 0.4 else "failure"
    return outcome, quality


@dataclass(frozen=True, slots=True)
class _Report:
    pending: Pending
    kwargs: dict[str, Any]


def _prepare(
    session: _Session,
    score: float | None,
    good: bool | None,
    notes: str | None,
    verified: bool,
) -> _Report | None:
    """Validate, feed Mubit, and describe the Minima feedback to send (if any)."""
    outcome, quality = _signal(score, good)
    pending = session.recorder.pending()
    if pending is None and session.mubit is None:
        raise AutocaptureError(
            "nothing to report: call autocapture.recommend(...) before the LLM call"
        )
    if pending is not None and not pending.calls:
        raise AutocaptureError(
            "no LLM call was captured since the recommendation: make it through a "
            "patched or wrapped client, or record it with autocapture.capture(...)"
        )
    if session.mubit is not None:
        session.mubit.feedback(score, good, verified)
    if pending is None:
        return None
    call = pending.calls[-1]
    kwargs = {
        "recommendation_id": pending.recommendation.recommendation_id,
        "chosen_model_id": session.prices.catalog_id(call.model) or call.model,
        "outcome": outcome,
        "quality_score": quality,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "actual_cost_usd": call.cost_usd,
        "latency_ms": call.latency_ms,
        "notes": notes,
        "verified_in_production": verified or None,
    }
    return _Report(pending, kwargs)


def feedback(
    score: float | None = None,
    *,
    good: bool | None = None,
    notes: str | None = None,
    verified_in_production: bool = False,
) -> FeedbackResponse | None:
    """Report how the last call went: `good=True/False`, or `score` in [-1, 1].

    With a pending `recommend()`, sends Minima feedback for the last call made
    since then (its model, tokens, cost and latency; a score maps to a quality
    of (score + 1) / 2) and returns the server's answer. With Mubit, also
    credits the memories recalled for the call. Nothing is fabricated: the
    outcome is always the caller's.
    """
    session = _active()
    report = _prepare(session, score, good, notes, verified_in_production)
    if report is None:
        return None
    answer = _sync_minima(session).feedback(**report.kwargs)
    session.recorder.finish(report.pending)
    return answer


async def afeedback(
    score: float | None = None,
    *,
    good: bool | None = None,
    notes: str | None = None,
    verified_in_production: bool = False,
) -> FeedbackResponse | None:
    """Async twin of `feedback`, for an AsyncMinimaClient."""
    session = _active()
    report = _prepare(session, score, good, notes, verified_in_production)
    if report is None:
        return None
    answer = await _async_minima(session).feedback(**report.kwargs)
    session.recorder.finish(report.pending)
    return answer
