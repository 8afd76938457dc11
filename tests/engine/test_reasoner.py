"""The reasoner adapters through the real anthropic/openai SDKs against a local
fake of each provider's HTTP API, and the env configuration."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest

from minima_grpc.engine.reasoner import (
    CandidateView,
    ReasonerBrief,
    ReasonerConfig,
    ReasonerConfigError,
    ReasonerError,
    build_reasoner,
)
from minima_grpc.engine.reasoner.base import TASK_EXCERPT_CHARS, excerpt, parse_advice
from minima_grpc.engine.types import Difficulty, TaskType

from .fake_llm import FakeLLM, user_payload

BRIEF = ReasonerBrief(
    task_excerpt=excerpt("Tell me something about this " + "x" * 5000),
    task_type=TaskType.OTHER,
    difficulty=Difficulty.EASY,
    classification_is_ambiguous=True,
    threshold=0.735,
    reasons=("thin_evidence",),
    candidates=(
        CandidateView("cheap", "acme", 0.7, 0.0001, 0.0),
        CandidateView("big", "acme", 0.9, 0.01, 1.5),
    ),
)
ADVICE = json.dumps({"task_type": "qa", "difficulty": "trivial", "success": {"cheap": 0.95}})


def _reasoner(provider: str, llm: FakeLLM, timeout_ms: int = 30_000) -> Any:
    config = ReasonerConfig(provider, "fake-model", "sk-test", llm.base_url(provider), timeout_ms)
    return build_reasoner(config)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_advice_round_trips_through_the_provider_sdk(provider: str) -> None:
    with FakeLLM(reply=lambda _: "Sure! " + ADVICE) as llm:
        advice = await _reasoner(provider, llm).advise(BRIEF)
    assert advice.task_type is TaskType.QA
    assert advice.difficulty is Difficulty.TRIVIAL
    assert advice.success == {"cheap": 0.95}
    path, request = llm.requests[0]
    assert path.endswith("/messages" if provider == "anthropic" else "/chat/completions")
    assert request["model"] == "fake-model"
    sent = user_payload(request)
    # bounded: an excerpt of the task, the candidates shown, nothing else
    assert len(sent["task"]) <= TASK_EXCERPT_CHARS + 10
    assert [c["model_id"] for c in sent["candidates"]] == ["cheap", "big"]
    assert sent["classification"] == {"task_type": "other", "difficulty": "easy", "ambiguous": True}


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_provider_errors_surface_as_exceptions(provider: str) -> None:
    sdk_errors = (anthropic.APIStatusError, openai.APIStatusError)
    with FakeLLM(reply=lambda _: ADVICE, status=500) as llm, pytest.raises(sdk_errors) as caught:
        await _reasoner(provider, llm).advise(BRIEF)
    assert isinstance(caught.value, sdk_errors)
    assert caught.value.status_code == 500
    assert len(llm.requests) == 1  # no retries: the engine owns the deadline


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_unusable_replies_are_rejected(provider: str) -> None:
    with (
        FakeLLM(reply=lambda _: "I think the cheap one is fine.") as llm,
        pytest.raises(ReasonerError, match="no JSON"),
    ):
        await _reasoner(provider, llm).advise(BRIEF)


def test_parse_advice_keeps_only_known_models_and_probabilities() -> None:
    advice = parse_advice(
        '{"task_type": "poetry", "success": {"cheap": 0.4, "ghost": 0.9, "big": 7, "x": true}}',
        ["cheap", "big"],
    )
    assert advice.task_type is None
    assert advice.success == {"cheap": 0.4}
    with pytest.raises(ReasonerError, match="no usable judgement"):
        parse_advice('{"success": {"ghost": 0.9}}', ["cheap"])
    with pytest.raises(ReasonerError, match="not valid JSON"):
        parse_advice("{nope}", ["cheap"])


def test_config_from_env() -> None:
    assert ReasonerConfig.from_env({}) is None
    assert ReasonerConfig.from_env({"MINIMA_REASONER": "off"}) is None
    config = ReasonerConfig.from_env(
        {"MINIMA_REASONER": "anthropic:claude-haiku-4-5", "ANTHROPIC_API_KEY": "sk-a"}
    )
    assert config == ReasonerConfig("anthropic", "claude-haiku-4-5", "sk-a", None, 4000)
    config = ReasonerConfig.from_env(
        {
            "MINIMA_REASONER": "openai:gpt-4o-mini",
            "MINIMA_REASONER_API_KEY": "sk-o",
            "MINIMA_REASONER_BASE_URL": "http://127.0.0.1:9/v1",
            "MINIMA_REASONER_TIMEOUT_MS": "1500",
        }
    )
    assert config == ReasonerConfig("openai", "gpt-4o-mini", "sk-o", "http://127.0.0.1:9/v1", 1500)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MINIMA_REASONER": "gemini:flash"}, "expected 'anthropic:<model>'"),
        ({"MINIMA_REASONER": "openai:"}, "expected 'anthropic:<model>'"),
        ({"MINIMA_REASONER": "openai:gpt-4o-mini"}, "OPENAI_API_KEY"),
        (
            {
                "MINIMA_REASONER": "openai:m",
                "OPENAI_API_KEY": "k",
                "MINIMA_REASONER_TIMEOUT_MS": "0",
            },
            "positive integer",
        ),
    ],
)
def test_bad_config_is_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ReasonerConfigError, match=message):
        ReasonerConfig.from_env(env)
