"""Reasoner over Anthropic's Messages API (official `anthropic` SDK)."""

from __future__ import annotations

from anthropic import AsyncAnthropic

from minima_grpc.engine.reasoner.base import (
    MAX_OUTPUT_TOKENS,
    SYSTEM_PROMPT,
    ReasonerAdvice,
    ReasonerBrief,
    ReasonerError,
    parse_advice,
    user_message,
)


class AnthropicReasoner:
    def __init__(self, client: AsyncAnthropic, model: str) -> None:
        self._client = client
        self._model = model

    async def advise(self, brief: ReasonerBrief) -> ReasonerAdvice:
        reply = await self._client.messages.create(
            model=self._model,
            max_tokens=MAX_OUTPUT_TOKENS,
            system=SYSTEM_PROMPT,
            messages=[{"role": "user", "content": user_message(brief)}],
        )
        text = "".join(block.text for block in reply.content if block.type == "text")
        if not text:
            raise ReasonerError("anthropic reply has no text")
        return parse_advice(text, [c.model_id for c in brief.candidates])
