from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from minima_grpc.evaluation.baselines import measure_baselines
from minima_grpc.evaluation.dataset import costs_matrix, load_routing_dataset, scores_matrix
from minima_grpc.evaluation.plot import plot_report
from minima_grpc.evaluation.replay import (
    LearningPath,
    Pass,
    PassStats,
    ReplayPlan,
    ReplayResult,
    SliderRun,
)
from minima_grpc.evaluation.report import build_report, render_table
from tests.evaluation.conftest import WriteCsv, wide_row

MODELS = ("cheap", "mid", "premium")
COSTS = {"cheap": "0.0001", "mid": "0.001", "premium": "0.01"}


def _dataset(write_csv: WriteCsv):  # type: ignore[no-untyped-def]
    outcomes = [("1", "1", "1"), ("0", "1", "1"), ("0", "0", "1"), ("0", "0", "0")]
    rows = [
        wide_row(f"{s}{i}", s, f"prompt {s} {i}", dict(zip(MODELS, o, strict=True)), COSTS)
        for s in ("train", "test")
        for i, o in enumerate(outcomes)
    ]
    return load_routing_dataset(write_csv(rows))


def _result(*paths: dict[float, list[int]]) -> ReplayResult:
    """One learning path per mapping of slider -> choices."""
    learned = tuple(
        LearningPath(
            None,
            tuple(
                SliderRun(slider, "ns", Pass(np.array(c, dtype=np.int64), _stats(len(c))), None)
                for slider, c in choices_by_slider.items()
            ),
        )
        for choices_by_slider in paths
    )
    plan = ReplayPlan(namespace="ns", sliders=tuple(paths[0]), paths=len(paths))
    return ReplayResult(plan, learned, 1.0)


def _stats(prompts: int) -> PassStats:
    # three of the four picks explored "cheap"
    warnings = Counter({"exploration_pick:cheap": 3, "cold_start": prompts})
    return PassStats(prompts=prompts, warnings=warnings)


def test_figures_against_the_baselines(write_csv: WriteCsv, tmp_path: Path) -> None:
    data = _dataset(write_csv)
    test = data.split("test")
    oracle = measure_baselines(data.models, scores_matrix(test), costs_matrix(test)).oracle_choices
    report = build_report(data, _result({0: [0, 0, 0, 0], 10: oracle.tolist()}), {"k": "v"})

    assert report["reference_model"] == "premium"
    cheapest, best = report["router"]
    assert cheapest["accuracy"] == pytest.approx(0.25)
    assert cheapest["cost_per_1k"] == pytest.approx(0.1)
    assert cheapest["models_used"] == 1
    assert cheapest["engine"]["exploration_share"] == pytest.approx(0.75)
    assert best["accuracy"] == report["baselines"]["oracle"]["accuracy"] == pytest.approx(0.75)
    assert best["oracle_saving_captured"] == pytest.approx(1.0)
    # The oracle beats one model for everything at its cost: cheap 0.25 / mid 0.5 mixed.
    assert best["lift_over_one_model"] > 0.0
    # The oracle takes "cheap" where all succeed or all fail: 2 of 4 picks change.
    assert report["pick_stability"]["share_of_prompts_changed"] == pytest.approx(0.5)
    # The oracle costs $2.80/1k against the reference's $10: within 50%, not within 20%,
    # where only slider 0 (accuracy 0.25) is affordable.
    met = {t["target"]: (t["met"], t["best_slider"]) for t in report["targets"]}
    assert met == {
        "reference accuracy at <= 50% of its cost": (True, 10),
        ">= 95% of reference accuracy at <= 20% of its cost": (False, 0),
    }
    assert report["curve"]["aiq_router"] > report["curve"]["aiq_one_model_for_everything"]
    json.dumps(report)  # every figure is plain JSON

    table = render_table(report)
    assert "minima slider 10" in table
    assert "premium (reference)" in table
    # $2.00/1k (20%) lies between slider 0 ($0.10, 0.25) and 10 ($2.80, 0.75):
    # 0.25 + 1.9 / 2.7 * 0.5 = 0.602 by mixing the two settings
    assert "slider 0, accuracy 0.250; mixing two settings reaches 0.602" in table
    png = plot_report(report, tmp_path / "out" / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_router_stuck_on_the_premium_model_meets_no_cost_target(
    write_csv: WriteCsv,
) -> None:
    report = build_report(_dataset(write_csv), _result({5: [2, 2, 2, 2]}), {})
    assert [t["met"] for t in report["targets"]] == [False, False]
    assert [t["best_slider"] for t in report["targets"]] == [None, None]
    assert report["router"][0]["oracle_saving_captured"] == pytest.approx(0.0)


def test_learning_paths_are_averaged_and_each_is_kept(write_csv: WriteCsv) -> None:
    data = _dataset(write_csv)
    test = data.split("test")
    oracle = measure_baselines(data.models, scores_matrix(test), costs_matrix(test)).oracle_choices
    # Two histories: one learned the oracle's picks at slider 10, the other stuck to "cheap".
    lucky: dict[float, list[int]] = {0: [0, 0, 0, 0], 10: oracle.tolist()}
    unlucky: dict[float, list[int]] = {0: [0, 0, 0, 0], 10: [0, 0, 0, 0]}
    report = build_report(data, _result(lucky, unlucky), {})

    cheapest, best = report["router"]
    assert [p["accuracy"] for p in best["per_path"]] == pytest.approx([0.75, 0.25])
    assert best["accuracy"] == pytest.approx(0.5)  # the mean of the two paths
    assert best["cost_per_1k"] == pytest.approx((2.8 + 0.1) / 2)
    assert best["engine"]["exploration_share"] == pytest.approx(0.75)
    assert cheapest["per_benchmark"]["arc-challenge"]["prompts"] == 4
    lucky_aiq, unlucky_aiq = report["curve"]["aiq_router_per_path"]
    assert lucky_aiq > report["curve"]["aiq_router"] > unlucky_aiq
    # Only the lucky path reaches the reference's accuracy within half its cost.
    half = report["targets"][0]
    assert (half["met"], half["met_in_paths"]) == (False, 1)
    table = render_table(report)
    assert "2 learning paths" in table
    assert "0.250-0.750" in table
    assert "met in 1 of 2 paths" in table
