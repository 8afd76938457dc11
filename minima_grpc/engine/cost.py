"""Cost of one call: expected tokens and the three cost bases of the spec.

One basis prices the whole candidate set, so costs compare like with like:
- rescaled: every candidate has enough realized output-token samples from
  similar past tasks; cost = input tokens x input price + observed output
  tokens x output price. Breakdown {rescaled, obs_output_tokens}.
- observed: every candidate has enough realized $/call samples (and caching is
  not required, since those costs were not cached); cost = their weighted mean.
  Breakdown {observed_avg}.
- estimate: otherwise; cost from expected tokens and list prices. Breakdown
  {input, output}.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from minima_grpc.catalog import CatalogEntry
from minima_grpc.engine.aggregate import ModelEvidence
from minima_grpc.engine.types import Difficulty, TaskInput, TaskType

# Typical tokens of one call per task type at medium difficulty (input, output).
# Output scales with difficulty; input does not (it is the caller's prompt).
DEFAULT_TOKENS: Mapping[TaskType, tuple[int, int]] = {
    TaskType.CODE: (1500, 900),
    TaskType.SUMMARIZATION: (3000, 300),
    TaskType.EXTRACTION: (2000, 300),
    TaskType.QA: (400, 350),
    TaskType.REASONING: (600, 1200),
    TaskType.CLASSIFICATION: (500, 20),
    TaskType.TRANSLATION: (600, 650),
    TaskType.CREATIVE: (300, 900),
    TaskType.RAG: (4000, 400),
    TaskType.TOOL_USE: (2000, 300),
    TaskType.OTHER: (1000, 500),
}
OUTPUT_SCALE: Mapping[Difficulty, float] = {
    Difficulty.TRIVIAL: 0.5,
    Difficulty.EASY: 0.75,
    Difficulty.MEDIUM: 1.0,
    Difficulty.HARD: 1.5,
    Difficulty.EXPERT: 2.0,
}
# Rough characters per token for English text and code.
_CHARS_PER_TOKEN = 4


class CostBasis(enum.StrEnum):
    RESCALED = "rescaled"
    OBSERVED = "observed"
    ESTIMATE = "estimate"

    @property
    def tag(self) -> str:
        """How rationale marks the cost: observed from feedback, or estimated."""
        return "est" if self is _ESTIMATE else "obs"


# Bound once for the code that runs for every candidate: Python 3.11 reads an
# enum member through the enum metaclass's __getattr__ hook, ~6x slower.
_RESCALED, _OBSERVED, _ESTIMATE = CostBasis.RESCALED, CostBasis.OBSERVED, CostBasis.ESTIMATE


@dataclass(frozen=True, slots=True)
class TokenEstimate:
    input_tokens: int
    output_tokens: int


class Price(NamedTuple):
    """What one call is expected to cost and the figures behind it. A
    NamedTuple: one per candidate per recommendation."""

    usd: float
    # The formula that priced it: the basis, or an estimate when the basis's
    # samples were missing.
    formula: CostBasis
    # An estimate's input and output dollars.
    input_usd: float = 0.0
    output_usd: float = 0.0
    # Observed output tokens, when rescaled.
    output_tokens: float = 0.0

    @property
    def breakdown(self) -> dict[str, float]:
        """The spec's breakdown, built only for the candidates a response shows."""
        if self.formula is _RESCALED:
            return {"rescaled": self.usd, "obs_output_tokens": round(self.output_tokens, 1)}
        if self.formula is _OBSERVED:
            return {"observed_avg": self.usd}
        return {"input": self.input_usd, "output": self.output_usd}


def expected_tokens(task: TaskInput, task_type: TaskType, difficulty: Difficulty) -> TokenEstimate:
    """Caller's figures when given (0 means 0); otherwise per-type defaults,
    never less input than the prompt itself."""
    default_in, default_out = DEFAULT_TOKENS[task_type]
    if task.expected_input_tokens is not None:
        input_tokens = task.expected_input_tokens
    else:
        input_tokens = max(default_in, math.ceil(len(task.task) / _CHARS_PER_TOKEN))
    if task.expected_output_tokens is not None:
        output_tokens = task.expected_output_tokens
    else:
        output_tokens = round(default_out * OUTPUT_SCALE[difficulty])
    return TokenEstimate(input_tokens, output_tokens)


def choose_basis(
    candidates: Sequence[CatalogEntry],
    evidence: Mapping[str, ModelEvidence],
    caching_required: bool,
    min_samples: int,
) -> CostBasis:
    """The richest basis every candidate has enough samples for (a candidate
    without evidence has none)."""
    if not candidates:
        return CostBasis.ESTIMATE
    found = [evidence.get(c.model_id) for c in candidates]
    if min(0 if e is None else e.token_samples for e in found) >= min_samples:
        return CostBasis.RESCALED
    if caching_required:
        return CostBasis.ESTIMATE
    if min(0 if e is None else e.cost_samples for e in found) >= min_samples:
        return CostBasis.OBSERVED
    return CostBasis.ESTIMATE


def input_price_per_mtok(entry: CatalogEntry, caching_required: bool, cached_share: float) -> float:
    """List input price, or the cache-blended price when caching is required."""
    card = entry.card
    cache = card.cache_read_cost_per_mtok
    if not caching_required or cache is None:
        return card.input_cost_per_mtok
    return cached_share * cache + (1.0 - cached_share) * card.input_cost_per_mtok


def price(
    entry: CatalogEntry,
    basis: CostBasis,
    tokens: TokenEstimate,
    evidence: ModelEvidence | None,
    caching_required: bool,
    cached_share: float,
) -> Price:
    in_price = input_price_per_mtok(entry, caching_required, cached_share)
    input_usd = tokens.input_tokens * in_price / 1e6
    out_price = entry.card.output_cost_per_mtok
    if basis is _RESCALED and evidence and evidence.observed_output_tokens is not None:
        obs_tokens = evidence.observed_output_tokens
        usd = input_usd + obs_tokens * out_price / 1e6
        return Price(usd, _RESCALED, 0.0, 0.0, obs_tokens)  # (positional: faster)
    if basis is _OBSERVED and evidence and evidence.observed_cost is not None:
        return Price(evidence.observed_cost, _OBSERVED)
    output_usd = tokens.output_tokens * entry.output_token_multiplier * out_price / 1e6
    return Price(input_usd + output_usd, _ESTIMATE, input_usd, output_usd)
