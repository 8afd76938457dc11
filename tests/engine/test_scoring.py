"""Aggregation, prediction, threshold, pick, fallback and escalation, with
numbers checked by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from minima_grpc.engine.aggregate import ModelEvidence, aggregate, neighbour_weights
from minima_grpc.engine.cost import CostBasis, Price
from minima_grpc.engine.escalate import escalation_reasons
from minima_grpc.engine.predict import Candidate, blend, predict
from minima_grpc.engine.select import cap_ranked, select, threshold
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import DecisionBasis
from minima_grpc.memory.protocol import RecalledOutcome

from .factories import NOW, entry, model, outcome, small_catalog

S = EngineSettings()


def test_neighbour_weight_by_hand() -> None:
    linear = replace(S, similarity_power=1.0, similarity_floor=0.0)

    def weigh(o: RecalledOutcome, settings: EngineSettings = S) -> float:
        return float(neighbour_weights([o], 0.85, NOW, settings)[0])

    # the best match: kernel 1; reliability 0.3 + 0.7 * 0.7 = 0.79
    assert weigh(outcome("m", 1.0, entry_id="a")) == pytest.approx(0.79)
    # half as close as the best: kernel 0.5^2, or 0.5 with a linear kernel
    half = outcome("m", 1.0, entry_id="h", similarity=0.425)
    assert weigh(half) == pytest.approx(0.25 * 0.79)
    assert weigh(half, linear) == pytest.approx(0.5 * 0.79)
    # 90 days = one half-life; very old is floored at 0.2
    assert weigh(outcome("m", 1.0, entry_id="b", age_days=90)) == pytest.approx(0.79 * 0.5)
    assert weigh(outcome("m", 1.0, entry_id="c", age_days=3650)) == pytest.approx(0.79 * 0.2)
    stale_seed = outcome("m", 1.0, entry_id="d", is_stale=True, source="seed:routerbench")
    assert weigh(stale_seed) == pytest.approx(0.79 * 0.5 * 0.8)
    # at or below the absolute floor a neighbour does not count at all
    assert weigh(outcome("m", 1.0, entry_id="e", similarity=0.05)) == 0.0
    assert weigh(outcome("m", 1.0, entry_id="e", similarity=0.0), linear) == 0.0


def test_the_kernel_is_relative_to_the_best_match() -> None:
    # Same ordering and the same weights whatever the backend's similarity scale.
    def evidence(best: float, half: float) -> dict[str, ModelEvidence]:
        pair = [
            outcome("a", 1.0, entry_id="1", similarity=best),
            outcome("b", 0.0, entry_id="2", similarity=half),
        ]
        return aggregate(pair, ["a", "b"], NOW, S)

    low_scale, high_scale = evidence(0.2, 0.1), evidence(0.9, 0.45)
    for model_id in ("a", "b"):
        assert low_scale[model_id].weight == pytest.approx(high_scale[model_id].weight)
    assert low_scale["b"].weight == pytest.approx(0.25 * low_scale["a"].weight)


def test_aggregate_per_model_masses_and_observed_costs() -> None:
    w = 0.79  # every neighbour is a best match (similarity 0.85), kc 0.7
    neighbours = [
        outcome("haiku", 1.0, entry_id="h1", cost_usd=0.002, output_tokens=500),
        outcome("haiku", 1.0, entry_id="h2", cost_usd=0.004, output_tokens=700),
        outcome("haiku", 0.0, entry_id="h3", cost_usd=0.003, output_tokens=600),
        outcome("haiku", 0.0, entry_id="h3"),  # duplicate entry counts once
        outcome("lite", 0.0, entry_id="l1", cost_usd=0.0001),
        outcome("not-a-candidate", 1.0, entry_id="x1"),
    ]
    evidence = aggregate(neighbours, ["haiku", "lite", "sonnet"], NOW, S)
    assert set(evidence) == {"haiku", "lite"}
    haiku = evidence["haiku"]
    assert haiku.weight == pytest.approx(3 * w)
    assert haiku.success_mass == pytest.approx(2 * w)
    assert haiku.success_rate == pytest.approx(2 / 3)
    assert haiku.observed_cost == pytest.approx(0.003)
    assert haiku.observed_output_tokens == pytest.approx(600)
    assert haiku.cost_samples == haiku.token_samples == 3
    lite = evidence["lite"]
    assert lite.observed_cost is None
    assert lite.cost_samples == 1


def test_every_neighbour_counts_but_only_the_heaviest_are_kept() -> None:
    # 20 neighbours, similarity 0.85 * (20 - i) / 20: kernel ((20 - i) / 20) ** 2, kc 0.7;
    # the last (similarity 0.0425) is below the floor and does not count
    neighbours = [
        outcome("m", 1.0, entry_id=f"n{i}", similarity=0.85 * (20 - i) / 20) for i in range(20)
    ]
    found = aggregate(neighbours, ["m"], NOW, S)["m"]
    assert found.count == 19
    assert found.weight == pytest.approx(0.79 * sum((j / 20) ** 2 for j in range(2, 21)))
    assert [n.outcome.entry_id for n in found.neighbours] == [f"n{i}" for i in range(16)]


def test_beta_blend_by_hand() -> None:
    # prior 0.85, k = 4; five best matches of weight 0.79, four of them successes
    evidence = aggregate(
        [outcome("m", 1.0, entry_id=str(i)) for i in range(4)] + [outcome("m", 0.0, entry_id="f")],
        ["m"],
        NOW,
        S,
    )["m"]
    w = 5 * 0.79
    ws = 4 * 0.79
    p, confidence = blend(0.85, evidence, 4.0)
    assert p == pytest.approx((ws + 4 * 0.85) / (w + 4))
    assert confidence == pytest.approx(w / (w + 4))
    assert blend(0.85, None, 4.0) == (0.85, 0.0)


def test_threshold_from_slider_and_min_quality() -> None:
    reachable = 0.99  # the best candidate clears every slider's tau
    assert threshold(0, None, reachable, S) == pytest.approx(0.55)
    assert threshold(5, None, reachable, S) == pytest.approx(0.735)
    assert threshold(10, None, reachable, S) == pytest.approx(0.92)
    assert threshold(5, 0.9, reachable, S) == pytest.approx(0.9)
    assert threshold(10, 0.5, reachable, S) == pytest.approx(0.92)  # min_quality only raises


def test_threshold_stays_within_a_margin_of_the_best_prediction() -> None:
    # best 0.8: slider 5 allows 0.5 * 0.3 = 0.15 below it, slider 10 none
    assert threshold(5, None, 0.8, S) == pytest.approx(0.65)
    assert threshold(10, None, 0.8, S) == pytest.approx(0.8)
    assert threshold(0, None, 0.8, S) == pytest.approx(0.5)
    # min_quality is still a hard floor, and the margin can be switched off
    assert threshold(5, 0.7, 0.8, S) == pytest.approx(0.7)
    assert threshold(5, None, 0.8, replace(S, tau_margin_max=None)) == pytest.approx(0.735)


CATALOG = small_catalog(
    model("lite", 0.1, 0.4),
    model("mini", 0.5, 2.0),
    model("mid", 1.0, 5.0),
    model("big", 5.0, 25.0),
)


def _candidate(model_id: str, p: float, cost: float, confidence: float = 0.0) -> Candidate:
    basis = DecisionBasis.MEMORY if confidence else DecisionBasis.PRIOR
    price = Price(cost, {"input": cost, "output": 0.0})
    return Candidate(entry(CATALOG, model_id), p, p, confidence, basis, price, None)


def test_pick_is_the_cheapest_clearing_tau_and_ranked_first() -> None:
    pool = [
        _candidate("big", 0.95, 0.05),
        _candidate("lite", 0.60, 0.0001),
        _candidate("mid", 0.80, 0.005),
        _candidate("mini", 0.76, 0.001),
    ]
    chosen = select(pool, 0.75, S)
    assert chosen.pick.model_id == "mini"
    assert chosen.met_threshold
    assert [r.candidate.model_id for r in chosen.ranked] == ["mini", "mid", "big", "lite"]
    # log-cost positions: mini (log 0.001) between lite (0.0001) and big (0.05)
    span = math.log(0.05 / 0.0001)
    assert chosen.ranked[0].score == pytest.approx(1 + 1 - math.log(10) / span, abs=1e-6)
    assert chosen.ranked[-1].score == pytest.approx(0.60 - 0.75)
    # fallback: the cheapest at least 0.03 more likely than the pick
    assert chosen.fallback is not None
    assert chosen.fallback.model_id == "mid"


def test_no_model_meets_threshold_picks_the_most_likely() -> None:
    pool = [_candidate("lite", 0.5, 0.0001), _candidate("big", 0.9, 0.05)]
    chosen = select(pool, 0.95, S)
    assert chosen.pick.model_id == "big"
    assert not chosen.met_threshold
    assert chosen.fallback is None  # nothing is more reliable than the pick


def test_cap_keeps_the_pick_and_the_fallback() -> None:
    pool = [
        _candidate("lite", 0.80, 0.0001),
        _candidate("mini", 0.81, 0.001),
        _candidate("mid", 0.82, 0.005),
        _candidate("big", 0.97, 0.05),
    ]
    chosen = select(pool, 0.75, S)
    assert chosen.pick.model_id == "lite"
    assert chosen.fallback is not None
    assert chosen.fallback.model_id == "big"
    assert [r.candidate.model_id for r in cap_ranked(chosen, 2)] == ["lite", "big"]
    assert [r.candidate.model_id for r in cap_ranked(chosen, 1)] == ["lite", "big"]
    assert len(cap_ranked(chosen, 8)) == 4


def test_equal_costs_break_ties_by_predicted_success() -> None:
    chosen = select([_candidate("mini", 0.80, 0.001), _candidate("mid", 0.90, 0.001)], 0.7, S)
    assert chosen.pick.model_id == "mid"


def test_escalation_reasons() -> None:
    tied = select([_candidate("mini", 0.80, 0.001), _candidate("mid", 0.81, 0.001)], 0.7, S)
    assert escalation_reasons(tied, {}, S) == ["thin_evidence", "low_confidence", "tie"]

    split = [outcome("mini", q, entry_id=f"e{i}") for i, q in enumerate([1, 0, 1, 0, 1, 0])]
    agreed = [outcome("mid", 1.0, entry_id=f"m{i}") for i in range(6)]
    evidence = aggregate(split + agreed, ["mini", "mid"], NOW, S)
    mini = predict(entry(CATALOG, "mini"), 0.8, evidence["mini"], Price(0.001, {}), 4.0)
    mid = predict(entry(CATALOG, "mid"), 0.8, evidence["mid"], Price(0.01, {}), 4.0)
    conflicted = select([mini, mid], 0.6, S)
    assert conflicted.pick.model_id == "mini"
    # 6 neighbours of weight 0.79 -> W 4.74 >= 2 with a 50% success rate;
    # confidence 4.74 / 8.74 = 0.54 is not low
    assert escalation_reasons(conflicted, evidence, S) == ["conflict"]


def test_cost_basis_tags() -> None:
    assert CostBasis.ESTIMATE.tag == "est"
    assert CostBasis.OBSERVED.tag == CostBasis.RESCALED.tag == "obs"
