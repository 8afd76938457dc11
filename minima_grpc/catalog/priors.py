"""Capability priors: a one-parameter item-response model.

A prior is the probability that a model clears a task. We model it as
sigmoid(ability(model, task type) - difficulty offset): the catalog stores the
probability at `medium` difficulty, and every other difficulty shifts it on the
logit scale. Strong models therefore keep most of their success on hard tasks
while weak ones collapse, which is the spread the benchmarks show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from minima_grpc.engine.types import Difficulty

# Logit shift from `medium` per difficulty: one step is roughly a factor e in
# the odds of success.
DIFFICULTY_OFFSETS: Mapping[Difficulty, float] = {
    Difficulty.TRIVIAL: 1.6,
    Difficulty.EASY: 0.8,
    Difficulty.MEDIUM: 0.0,
    Difficulty.HARD: -1.0,
    Difficulty.EXPERT: -2.0,
}

# Keeps logits finite and no prior at exactly 0 or 1.
_P_MIN, _P_MAX = 0.01, 0.99


def clamp_probability(p: float) -> float:
    return min(_P_MAX, max(_P_MIN, p))


def logit(p: float) -> float:
    p = clamp_probability(p)
    return math.log(p / (1.0 - p))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def by_difficulty(
    p_medium: float, offsets: Mapping[Difficulty, float] = DIFFICULTY_OFFSETS
) -> dict[Difficulty, float]:
    """The prior at every difficulty, from the prior at `medium`."""
    base = logit(p_medium)
    return {d: round(clamp_probability(sigmoid(base + offsets[d])), 4) for d in Difficulty}
