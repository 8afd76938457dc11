from __future__ import annotations

import numpy as np
import pytest

from minima_grpc.evaluation.baselines import measure_baselines
from minima_grpc.evaluation.metrics import (
    aiq,
    hull_accuracy_at,
    mean_ci95,
    model_mix,
    nondecreasing_hull,
    operating_point,
    oracle_saving_captured,
    pick_stability,
)


def test_hull_drops_points_under_a_chord_and_past_the_peak() -> None:
    points = [(1.0, 0.5), (1.5, 0.6), (2.0, 0.9), (3.0, 0.8), (2.0, 0.7)]
    assert nondecreasing_hull(points) == [(1.0, 0.5), (2.0, 0.9)]


def test_aiq_is_zero_below_the_cheapest_point_and_flat_after_the_last() -> None:
    points = [(1.0, 0.5), (2.0, 0.9)]
    # [0,1]: 0; [1,2]: trapezoid 0.7; [2,4]: 0.9 * 2 -> (0.7 + 1.8) / 4
    assert aiq(points, 0.0, 4.0) == pytest.approx(0.625)
    assert aiq([(2.0, 0.8)], 1.0, 3.0) == pytest.approx(0.4)
    assert aiq(points, 1.5, 2.0) == pytest.approx(0.8)


def test_aiq_rejects_an_empty_range() -> None:
    with pytest.raises(ValueError, match="positive width"):
        aiq([(1.0, 0.5)], 2.0, 2.0)


def test_hull_accuracy_interpolates_and_is_none_when_too_cheap() -> None:
    points = [(1.0, 0.5), (3.0, 0.9)]
    assert hull_accuracy_at(points, 0.5) is None
    assert hull_accuracy_at(points, 2.0) == pytest.approx(0.7)
    assert hull_accuracy_at(points, 9.0) == pytest.approx(0.9)


def test_baselines_on_a_small_matrix() -> None:
    scores = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    costs = np.array([[1.0, 2.0, 3.0]] * 3)
    base = measure_baselines(("a", "b", "c"), scores, costs)
    assert base.best_single == "b"
    assert base.cheapest_single == "a"
    assert base.oracle_choices.tolist() == [0, 1, 0]  # nobody solves the last: cheapest
    assert base.oracle.accuracy == pytest.approx(2 / 3)
    assert base.oracle.cost_per_1k == pytest.approx(4000 / 3)
    assert base.random.accuracy == pytest.approx(4 / 9)
    assert base.random.cost_per_1k == pytest.approx(2000)


def test_operating_point_mix_and_saving() -> None:
    scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    costs = np.array([[0.002, 0.004], [0.002, 0.004]])
    choices = np.array([0, 1])
    point = operating_point(choices, scores, costs)
    assert point.accuracy == 1.0
    assert point.cost_per_1k == pytest.approx(3.0)
    mix = model_mix(choices, ("x", "y"))
    assert (mix.distinct_models, mix.top_share) == (2, 0.5)
    assert oracle_saving_captured(3.0, reference_cost=5.0, oracle_cost=1.0) == pytest.approx(0.5)


def test_pick_stability_counts_distinct_picks_per_prompt() -> None:
    stability = pick_stability([np.array([0, 1, 2]), np.array([0, 2, 2])])
    assert stability.mean_distinct_per_prompt == pytest.approx(4 / 3)
    assert stability.share_of_prompts_changed == pytest.approx(1 / 3)
    assert stability.mean_distinct_share == pytest.approx((0.5 + 1.0 + 0.5) / 3)


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible() -> None:
    values = np.array([1.0] * 70 + [0.0] * 30)
    low, high = mean_ci95(values)
    assert low < 0.7 < high
    assert high - low < 0.25
    assert (low, high) == mean_ci95(values)
    assert mean_ci95(np.full(10, 0.5)) == (0.5, 0.5)
