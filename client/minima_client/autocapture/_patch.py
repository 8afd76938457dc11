"""Hooks into the provider SDKs: time each call and hand it to a callback.

Global patching replaces the `create` method on the SDK's resource classes
(so clients made before and after `enable()` are both captured) and keeps the
original function objects, so `restore()` puts back exactly what was there.
`wrap()` does the same on one client's resource instance. LiteLLM is hooked
through its public `success_callback` / `failure_callback` lists.

A failure inside autocapture never reaches the caller's LLM call: the
callback is guarded, and the provider's own exceptions pass through unchanged.
"""

from __future__ import annotations

import functools
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger("minima_client.autocapture")

# (provider, requested model, response or None, latency ms, error or None, reported cost)
OnCall = Callable[[str, Any, Any, int, BaseException | None, float | None], None]


class Restorable(Protocol):
    def restore(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    """A method on an SDK resource class that makes one LLM call."""

    provider: str
    module: str
    owner: str
    attr: str
    is_async: bool


TARGETS = (
    Target("openai", "openai.resources.chat.completions", "Completions", "create", False),
    Target("openai", "openai.resources.chat.completions", "AsyncCompletions", "create", True),
    Target("openai", "openai.resources.responses", "Responses", "create", False),
    Target("openai", "openai.resources.responses", "AsyncResponses", "create", True),
    Target("anthropic", "anthropic.resources.messages", "Messages", "create", False),
    Target("anthropic", "anthropic.resources.messages", "AsyncMessages", "create", True),
)


def _owner_class(target: Target) -> type | None:
    try:
        owner = getattr(importlib.import_module(target.module), target.owner, None)
    except ImportError:
        return None
    return owner if isinstance(owner, type) else None


def _safe(on_call: OnCall, *args: Any) -> None:
    try:
        on_call(*args)
    except Exception:  # capture must never break the caller's LLM call
        logger.exception("autocapture failed to record a call")


def _report(
    on_call: OnCall,
    target: Target,
    kwargs: dict[str, Any],
    start: float,
    response: Any,
    error: BaseException | None,
) -> None:
    latency_ms = round((time.perf_counter() - start) * 1000)
    _safe(on_call, target.provider, kwargs.get("model"), response, latency_ms, error, None)


def instrument(original: Callable[..., Any], target: Target, on_call: OnCall) -> Any:
    """`original` wrapped so every call is reported to `on_call`."""
    if target.is_async:

        @functools.wraps(original)
        async def acall(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                response = await original(*args, **kwargs)
            except Exception as exc:
                _report(on_call, target, kwargs, start, None, exc)
                raise
            _report(on_call, target, kwargs, start, response, None)
            return response

        return acall

    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            response = original(*args, **kwargs)
        except Exception as exc:
            _report(on_call, target, kwargs, start, None, exc)
            raise
        _report(on_call, target, kwargs, start, response, None)
        return response

    return call


_MISSING = object()


@dataclass(slots=True)
class Patch:
    """One replaced attribute and what to put back."""

    owner: Any
    attr: str
    previous: Any  # the object in owner.__dict__ before patching, or _MISSING

    def restore(self) -> None:
        if self.previous is _MISSING:
            delattr(self.owner, self.attr)
        else:
            setattr(self.owner, self.attr, self.previous)


def _replace(owner: Any, target: Target, on_call: OnCall) -> Patch:
    previous = vars(owner).get(target.attr, _MISSING)
    setattr(owner, target.attr, instrument(getattr(owner, target.attr), target, on_call))
    return Patch(owner, target.attr, previous)


def patch_classes(on_call: OnCall) -> list[Restorable]:
    """Patch every installed SDK's resource classes; absent SDKs are skipped."""
    patches: list[Restorable] = []
    for target in TARGETS:
        owner = _owner_class(target)
        if owner is not None:
            patches.append(_replace(owner, target, on_call))
    patches.extend(_hook_litellm(on_call))
    return patches


def patch_instance(client: Any, on_call: OnCall) -> list[Restorable]:
    """Patch one OpenAI or Anthropic client object; [] for anything else."""
    patches: list[Restorable] = []
    for resource in _resources(client):
        for target in TARGETS:
            owner = _owner_class(target)
            if owner is not None and isinstance(resource, owner):
                patches.append(_replace(resource, target, on_call))
    return patches


@dataclass(slots=True)
class _Snapshot:
    """The instance attributes of one object, to put back exactly."""

    owner: Any
    saved: dict[str, Any]

    def restore(self) -> None:
        current = vars(self.owner)
        for name in [n for n in current if n not in self.saved]:
            delattr(self.owner, name)
        for name, value in self.saved.items():
            if current.get(name, _MISSING) is not value:
                setattr(self.owner, name, value)


def snapshot(client: Any) -> list[Restorable]:
    """Snapshots of a client and its LLM resources, for undoing another wrapper."""
    return [_Snapshot(o, dict(vars(o))) for o in [client, *_resources(client)]]


def _resources(client: Any) -> list[Any]:
    chat = getattr(client, "chat", None)
    found = [getattr(chat, "completions", None), getattr(client, "responses", None)]
    found.append(getattr(client, "messages", None))
    return [r for r in found if r is not None]


# -- LiteLLM ----------------------------------------------------------------------


@dataclass(slots=True)
class _ListEntry:
    """A callback appended to one of litellm's callback lists."""

    registry: list[Any]
    callback: Any

    def restore(self) -> None:
        self.registry[:] = [cb for cb in self.registry if cb is not self.callback]


def _hook_litellm(on_call: OnCall) -> list[Restorable]:
    try:
        litellm = importlib.import_module("litellm")
    except ImportError:
        return []

    # LiteLLM's custom-callback signature: (kwargs, response, start_time, end_time).
    def succeeded(kwargs: dict[str, Any], response: Any, start: Any, end: Any) -> None:
        latency = round((end - start).total_seconds() * 1000)
        cost = kwargs.get("response_cost")
        _safe(
            on_call,
            "litellm",
            kwargs.get("model"),
            response,
            latency,
            None,
            float(cost) if isinstance(cost, int | float) else None,
        )

    def failed(kwargs: dict[str, Any], response: Any, start: Any, end: Any) -> None:
        latency = round((end - start).total_seconds() * 1000)
        error = kwargs.get("exception")
        exc = error if isinstance(error, BaseException) else RuntimeError(str(error))
        _safe(on_call, "litellm", kwargs.get("model"), None, latency, exc, None)

    entries: list[Restorable] = []
    for name, callback in (("success_callback", succeeded), ("failure_callback", failed)):
        registry = getattr(litellm, name, None)
        if isinstance(registry, list):
            registry.append(callback)
            entries.append(_ListEntry(registry, callback))
    return entries
