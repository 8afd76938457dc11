"""Reasoner over OpenAI's Chat Completions API (official `openai` SDK)."""

from __future__ import annotations

from openai import AsyncOpenAI

from minima_grpc.engine.reasoner.base import (
    MAX_OUTPUT_TOKENS,
    SYSTEM_PROMPT,
    ReasonerAdvice,
    ReasonerBrief,
    ReasonerError,
    parse_advice,
    user_message,
)


class OpenAIReasoner:
    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model

    async def advise(self, brief: ReasonerBrief) -> ReasonerAdvice:
        # No temperature: reasoning models accept only their default.
        reply = await self._client.chat.completions.create(
            model=self._model,
            max_completion_tokens=MAX_OUTPUT_TOKENS,
            response_format={"type": "json_object"},
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_message(brief)},
            ],
        )
        text = reply.choices[0].message.content if reply.choices else None
        if not text:
            raise ReasonerError("openai reply has no text")
        return parse_advice(text, [c.model_id for c in brief.candidates])
