"""Expected tokens, cost bases and breakdown keys."""

from __future__ import annotations

import pytest

from minima_grpc.engine.aggregate import aggregate
from minima_grpc.engine.cost import CostBasis, choose_basis, expected_tokens, price
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import Difficulty, TaskInput, TaskType
from minima_grpc.memory.protocol import RecalledOutcome

from .factories import NOW, entry, model, neighbours, outcome, small_catalog

S = EngineSettings()
CATALOG = small_catalog(
    model("cheap", 0.1, 0.4, cache_read_cost_per_mtok=0.01),
    model("thinker", 1.0, 4.0, output_token_multiplier=3.0),
)
CHEAP, THINKER = entry(CATALOG, "cheap"), entry(CATALOG, "thinker")


def test_default_tokens_per_type_scaled_by_difficulty() -> None:
    task = TaskInput("Summarize this.")
    medium = expected_tokens(task, TaskType.SUMMARIZATION, Difficulty.MEDIUM)
    assert (medium.input_tokens, medium.output_tokens) == (3000, 300)
    assert expected_tokens(task, TaskType.SUMMARIZATION, Difficulty.TRIVIAL).output_tokens == 150
    assert expected_tokens(task, TaskType.REASONING, Difficulty.EXPERT).output_tokens == 2400
    assert expected_tokens(task, TaskType.CLASSIFICATION, Difficulty.EASY).output_tokens == 15


def test_caller_tokens_win_and_zero_means_zero() -> None:
    task = TaskInput("x", expected_input_tokens=0, expected_output_tokens=0)
    tokens = expected_tokens(task, TaskType.CODE, Difficulty.HARD)
    assert (tokens.input_tokens, tokens.output_tokens) == (0, 0)
    assert price(CHEAP, CostBasis.ESTIMATE, tokens, None, False, 0.9).usd == 0.0


def test_a_long_prompt_is_at_least_its_own_length() -> None:
    tokens = expected_tokens(TaskInput("word " * 10_000), TaskType.QA, Difficulty.MEDIUM)
    assert tokens.input_tokens == 12_500  # 50,000 chars / 4


def test_estimate_breakdown_and_reasoning_multiplier() -> None:
    tokens = expected_tokens(
        TaskInput("x", expected_input_tokens=1000, expected_output_tokens=500),
        TaskType.QA,
        Difficulty.MEDIUM,
    )
    cheap = price(CHEAP, CostBasis.ESTIMATE, tokens, None, False, 0.9)
    assert cheap.breakdown == pytest.approx({"input": 0.0001, "output": 0.0002})
    assert cheap.usd == pytest.approx(0.0003)
    thinker = price(THINKER, CostBasis.ESTIMATE, tokens, None, False, 0.9)
    # hidden reasoning: 500 visible x 3 billed at $4/Mtok
    assert thinker.breakdown == pytest.approx({"input": 0.001, "output": 0.006})


def test_required_caching_prices_input_mostly_at_the_cache_rate() -> None:
    tokens = expected_tokens(
        TaskInput("x", expected_input_tokens=1_000_000, expected_output_tokens=0),
        TaskType.QA,
        Difficulty.MEDIUM,
    )
    cached = price(CHEAP, CostBasis.ESTIMATE, tokens, None, True, 0.9)
    assert cached.usd == pytest.approx(0.9 * 0.01 + 0.1 * 0.1)
    # a model without a cache price pays full input
    assert price(THINKER, CostBasis.ESTIMATE, tokens, None, True, 0.9).usd == pytest.approx(1.0)


def _samples(
    model_id: str, n: int, *, cost: float | None, tokens: int | None
) -> list[RecalledOutcome]:
    return [
        outcome(model_id, 1.0, entry_id=f"{model_id}{i}", cost_usd=cost, output_tokens=tokens)
        for i in range(n)
    ]


def test_one_basis_for_all_candidates() -> None:
    both = [CHEAP, THINKER]
    rescalable = aggregate(
        neighbours(*_samples("cheap", 3, cost=None, tokens=800),
                   *_samples("thinker", 3, cost=None, tokens=2000)),
        ["cheap", "thinker"], NOW, S,
    )  # fmt: skip
    assert choose_basis(both, rescalable, False, 3) is CostBasis.RESCALED
    tokens = expected_tokens(TaskInput("x", expected_input_tokens=1000), TaskType.QA,
                             Difficulty.MEDIUM)  # fmt: skip
    rescaled = price(CHEAP, CostBasis.RESCALED, tokens, rescalable["cheap"], False, 0.9)
    assert rescaled.breakdown == pytest.approx({"rescaled": 0.0001 + 800 * 0.4e-6,
                                                "obs_output_tokens": 800})  # fmt: skip

    observable = aggregate(
        neighbours(*_samples("cheap", 3, cost=0.002, tokens=None),
                   *_samples("thinker", 4, cost=0.01, tokens=None)),
        ["cheap", "thinker"], NOW, S,
    )  # fmt: skip
    assert choose_basis(both, observable, False, 3) is CostBasis.OBSERVED
    observed = price(THINKER, CostBasis.OBSERVED, tokens, observable["thinker"], False, 0.9)
    assert observed.breakdown == pytest.approx({"observed_avg": 0.01})
    # realized costs were not cached: with caching required they do not apply
    assert choose_basis(both, observable, True, 3) is CostBasis.ESTIMATE

    partial = aggregate(
        neighbours(*_samples("cheap", 5, cost=0.002, tokens=700)), ["cheap", "thinker"], NOW, S
    )
    # one candidate without samples forces the estimate for everyone
    assert choose_basis(both, partial, False, 3) is CostBasis.ESTIMATE
