"""Builds the configured reasoner from the environment (off by default).

MINIMA_REASONER=anthropic:claude-haiku-4-5   or   openai:gpt-4o-mini
MINIMA_REASONER_API_KEY    (else ANTHROPIC_API_KEY / OPENAI_API_KEY)
MINIMA_REASONER_BASE_URL   (optional: a proxy or compatible endpoint)
MINIMA_REASONER_TIMEOUT_MS (default 4000)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from minima_grpc.engine.reasoner.base import Reasoner

_KEY_ENV = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
DEFAULT_TIMEOUT_MS = 4000


class ReasonerConfigError(ValueError):
    """MINIMA_REASONER* is set but cannot be used; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class ReasonerConfig:
    provider: str
    model: str
    api_key: str
    base_url: str | None
    timeout_ms: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReasonerConfig | None:
        spec = env.get("MINIMA_REASONER", "").strip()
        if spec.lower() in ("", "off", "none"):
            return None
        provider, _, model = spec.partition(":")
        provider = provider.strip().lower()
        if provider not in _KEY_ENV or not model.strip():
            raise ReasonerConfigError(
                f"MINIMA_REASONER={spec!r}: expected 'anthropic:<model>' or 'openai:<model>'"
            )
        key = env.get("MINIMA_REASONER_API_KEY") or env.get(_KEY_ENV[provider])
        if not key:
            raise ReasonerConfigError(
                f"MINIMA_REASONER uses {provider} but neither MINIMA_REASONER_API_KEY "
                f"nor {_KEY_ENV[provider]} is set"
            )
        timeout_raw = env.get("MINIMA_REASONER_TIMEOUT_MS", str(DEFAULT_TIMEOUT_MS))
        if not timeout_raw.isdigit() or int(timeout_raw) <= 0:
            raise ReasonerConfigError(
                f"MINIMA_REASONER_TIMEOUT_MS={timeout_raw!r}: expected a positive integer"
            )
        return cls(
            provider=provider,
            model=model.strip(),
            api_key=key,
            base_url=env.get("MINIMA_REASONER_BASE_URL") or None,
            timeout_ms=int(timeout_raw),
        )


def build_reasoner(config: ReasonerConfig) -> Reasoner:
    """The provider's official SDK, with no retries: the engine has its own deadline."""
    timeout = config.timeout_ms / 1000.0
    try:
        if config.provider == "anthropic":
            from anthropic import AsyncAnthropic

            from minima_grpc.engine.reasoner.anthropic_client import AnthropicReasoner

            client = AsyncAnthropic(
                api_key=config.api_key, base_url=config.base_url, timeout=timeout, max_retries=0
            )
            return AnthropicReasoner(client, config.model)
        from openai import AsyncOpenAI

        from minima_grpc.engine.reasoner.openai_client import OpenAIReasoner

        openai_client = AsyncOpenAI(
            api_key=config.api_key, base_url=config.base_url, timeout=timeout, max_retries=0
        )
        return OpenAIReasoner(openai_client, config.model)
    except ImportError as exc:
        raise ReasonerConfigError(
            f"the {config.provider} reasoner needs its SDK: pip install 'minima-grpc[reasoner]'"
        ) from exc
