"""A small asyncio gRPC client for the calls the replay makes, as any caller would.

Transient failures (UNAVAILABLE, RESOURCE_EXHAUSTED) are retried with backoff;
feedback retries are safe because every feedback carries an idempotency key.
Any other error stops the run with the server's own message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TypeVar

import grpc
from grpc import aio

from minima_grpc import v1

_RETRIED = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
_ATTEMPTS = 5
_FIRST_BACKOFF_S = 0.2
DUPLICATE_WARNING = "duplicate_feedback_ignored"
T = TypeVar("T")
OutcomeName = Literal["success", "partial", "failure"]


class ApiError(Exception):
    """A call failed for good; the message names the call and the server's reason."""


@dataclass(frozen=True, slots=True)
class Hints:
    """What a caller may add beyond the text (only with `--hints`)."""

    task_type: str | None = None
    expected_input_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Pick:
    recommendation_id: str
    model_id: str
    decision_basis: str
    predicted_success: float
    est_cost_usd: float
    confidence: float
    task_type: str
    difficulty: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    """One outcome to send back: what ran, how it went and what it cost."""

    recommendation_id: str
    model_id: str
    outcome: OutcomeName
    idempotency_key: str
    quality: float | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    accepted: bool
    duplicate: bool
    warnings: tuple[str, ...]


def _short(name: str, prefix: str) -> str:
    """DECISION_BASIS_MEMORY -> memory, as the REST API spells enums."""
    return name.removeprefix(prefix).lower()


class MinimaApi:
    def __init__(self, target: str, api_key: str | None, *, timeout_s: float = 30.0) -> None:
        self._target = target
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._timeout_s = timeout_s
        self._channel = aio.insecure_channel(target)
        self._stub = v1.RecommendationServiceStub(self._channel)

    async def __aenter__(self) -> MinimaApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._channel.close()

    async def wait_ready(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout_s)
        except TimeoutError:
            raise ApiError(f"no Minima server answers at {self._target}") from None

    async def model_ids(self) -> list[str]:
        response = await self._call(
            "ListModels",
            lambda: self._stub.ListModels(
                v1.ListModelsRequest(), metadata=self._metadata, timeout=self._timeout_s
            ),
        )
        return [card.model_id for card in response.models]

    async def recommend(
        self,
        text: str,
        slider: float,
        namespace: str | None,
        hints: Hints,
        *,
        max_candidates: int,
        candidate_models: Sequence[str] = (),
    ) -> Pick:
        task = v1.TaskInput(task=text)
        if hints.task_type is not None:
            task.task_type = v1.TaskType.Value(f"TASK_TYPE_{hints.task_type.upper()}")
        if hints.expected_input_tokens is not None:
            task.expected_input_tokens = hints.expected_input_tokens
        request = v1.RecommendRequest(
            task=task,
            cost_quality_tradeoff=slider,
            max_candidates=max_candidates,
            # The replay measures the deterministic engine and must never make
            # the server call a paid LLM; evidence refs are not needed either.
            allow_llm_escalation=False,
            explain=False,
        )
        if namespace is not None:
            request.namespace = namespace
        request.constraints.candidate_models.extend(candidate_models)
        response = await self._call(
            "Recommend",
            lambda: self._stub.Recommend(request, metadata=self._metadata, timeout=self._timeout_s),
        )
        chosen = response.recommended_model
        return Pick(
            recommendation_id=response.recommendation_id,
            model_id=chosen.model_id,
            decision_basis=_short(v1.DecisionBasis.Name(chosen.decision_basis), "DECISION_BASIS_"),
            predicted_success=chosen.predicted_success,
            est_cost_usd=chosen.est_cost_usd,
            confidence=response.confidence,
            task_type=_short(v1.TaskType.Name(response.classified_task_type), "TASK_TYPE_"),
            difficulty=_short(v1.Difficulty.Name(response.classified_difficulty), "DIFFICULTY_"),
            warnings=tuple(response.warnings),
        )

    async def feedback(self, report: OutcomeReport) -> Receipt:
        request = v1.FeedbackRequest(
            recommendation_id=report.recommendation_id,
            chosen_model_id=report.model_id,
            outcome=v1.Outcome.Value(f"OUTCOME_{report.outcome.upper()}"),
            idempotency_key=report.idempotency_key,
        )
        if report.quality is not None:
            request.quality_score = report.quality
        if report.cost_usd is not None:
            request.actual_cost_usd = report.cost_usd
        if report.input_tokens is not None:
            request.input_tokens = report.input_tokens
        if report.output_tokens is not None:
            request.output_tokens = report.output_tokens
        if report.notes is not None:
            request.notes = report.notes
        response = await self._call(
            "SubmitFeedback",
            lambda: self._stub.SubmitFeedback(
                request, metadata=self._metadata, timeout=self._timeout_s
            ),
        )
        warnings = tuple(response.warnings)
        return Receipt(response.accepted, DUPLICATE_WARNING in warnings, warnings)

    async def _call(self, name: str, send: Callable[[], Awaitable[T]]) -> T:
        delay = _FIRST_BACKOFF_S
        for _ in range(_ATTEMPTS - 1):
            try:
                return await send()
            except aio.AioRpcError as error:
                if error.code() not in _RETRIED:
                    raise _failure(name, error) from None
            await asyncio.sleep(delay)
            delay *= 2
        try:
            return await send()
        except aio.AioRpcError as error:
            raise _failure(name, error) from None


def _failure(name: str, error: aio.AioRpcError) -> ApiError:
    return ApiError(f"{name} failed: {error.code().name}: {error.details()}")
