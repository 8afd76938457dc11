"""Figures of merit for a routing policy on a set of prompts.

A policy's result on a slider setting is one model index per prompt; its
operating point is (cost per 1,000 prompts, mean score). The curve over slider
settings is summarised by AIQ as RouterBench defines it: the area under the
non-decreasing upper convex hull of the points (any point on a hull segment is
reachable by mixing its two end policies at random), integrated over a common
cost range and divided by the range's width. Below its cheapest point a curve
counts as 0 (the policy cannot operate that cheaply); after its last point it
stays flat.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Choices = npt.NDArray[np.int64]
Point = tuple[float, float]  # (cost per 1,000 prompts, accuracy)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    accuracy: float
    cost_per_1k: float  # USD per 1,000 prompts


def operating_point(choices: Choices, scores: Matrix, costs: Matrix) -> OperatingPoint:
    rows = np.arange(len(choices))
    return OperatingPoint(
        accuracy=float(scores[rows, choices].mean()),
        cost_per_1k=float(costs[rows, choices].mean() * 1000.0),
    )


def mean_ci95(
    values: npt.NDArray[np.float64], resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of a mean (seeded, so reports are reproducible)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(resamples, len(values)), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def nondecreasing_hull(points: Sequence[Point]) -> list[Point]:
    """Upper concave envelope from the cheapest point up to the most accurate one."""
    best_at_cost: dict[float, float] = {}
    for cost, accuracy in points:
        best_at_cost[cost] = max(accuracy, best_at_cost.get(cost, -np.inf))
    upper: list[Point] = []
    for point in sorted(best_at_cost.items()):
        while len(upper) >= 2 and _turn(upper[-2], upper[-1], point) >= 0.0:
            upper.pop()
        upper.append(point)
    peak = max(range(len(upper)), key=lambda i: (upper[i][1], -upper[i][0]))
    return upper[: peak + 1]


def _turn(o: Point, a: Point, b: Point) -> float:
    """> 0 for a counter-clockwise turn o -> a -> b (a lies under the chord o-b)."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def aiq(points: Sequence[Point], cost_low: float, cost_high: float) -> float:
    """Mean hull accuracy over [cost_low, cost_high]."""
    if cost_high <= cost_low:
        raise ValueError("the cost range must have a positive width")
    hull = nondecreasing_hull(points)
    knots = [*hull, (max(cost_high, hull[-1][0]), hull[-1][1])]
    area = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(knots):
        left, right = max(x0, cost_low), min(x1, cost_high)
        if right <= left:
            continue
        slope = (y1 - y0) / (x1 - x0)
        area += (right - left) * (y0 + slope * ((left + right) / 2.0 - x0))
    return area / (cost_high - cost_low)


def hull_accuracy_at(points: Sequence[Point], cost: float) -> float | None:
    """Accuracy reachable at `cost` by mixing measured points; None if too cheap."""
    hull = nondecreasing_hull(points)
    if cost < hull[0][0]:
        return None
    xs = [p[0] for p in hull]
    ys = [p[1] for p in hull]
    return float(np.interp(cost, xs, ys))


def oracle_saving_captured(policy_cost: float, reference_cost: float, oracle_cost: float) -> float:
    """Share of the oracle's saving over the reference model that the policy achieves."""
    saving = reference_cost - oracle_cost
    return (reference_cost - policy_cost) / saving if saving > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ModelMix:
    """How concentrated a policy's picks are on one slider setting."""

    distinct_models: int
    top_model: str
    top_share: float
    shares: dict[str, float]


def model_mix(choices: Choices, models: Sequence[str]) -> ModelMix:
    counts = Counter(int(c) for c in choices)
    total = len(choices)
    shares = {models[i]: n / total for i, n in counts.most_common()}
    top, top_share = next(iter(shares.items()))
    return ModelMix(len(counts), top, top_share, shares)


@dataclass(frozen=True, slots=True)
class PickStability:
    """How the pick for the same prompt moves across slider settings."""

    mean_distinct_per_prompt: float
    share_of_prompts_changed: float
    mean_distinct_share: float  # distinct picks / settings, averaged over prompts


def pick_stability(choices_by_setting: Sequence[Choices]) -> PickStability:
    grid = np.vstack(choices_by_setting)  # settings x prompts
    distinct = np.array([len(set(column)) for column in grid.T], dtype=np.float64)
    return PickStability(
        mean_distinct_per_prompt=float(distinct.mean()),
        share_of_prompts_changed=float((distinct > 1).mean()),
        mean_distinct_share=float((distinct / grid.shape[0]).mean()),
    )
