"""Aggregation, prediction, threshold, pick, fallback and escalation, with
numbers checked by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from minima_grpc.engine.aggregate import ModelEvidence, aggregate, neighbour_weights
from minima_grpc.engine.cost import CostBasis, Price
from minima_grpc.engine.escalate import escalation_reasons
from minima_grpc.engine.predict import Candidate, pooled_success, predict
from minima_grpc.engine.rationale import evidence_refs, rounded
from minima_grpc.engine.select import cap_ranked, price_sensitivity, select
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import DecisionBasis, Difficulty, EvidenceRef, TaskType
from minima_grpc.memory.protocol import RecalledOutcome

from .factories import NOW, entry, model, neighbours, outcome, small_catalog

S = EngineSettings()


def test_neighbour_weight_by_hand() -> None:
    linear = replace(S, similarity_power=1.0, similarity_floor=0.0)

    def weigh(o: RecalledOutcome, settings: EngineSettings = S) -> float:
        return float(neighbour_weights(neighbours(o), 0.85, NOW, settings)[0])

    # the best match: kernel 1; reliability 0.3 + 0.7 * 0.7 = 0.79
    assert weigh(outcome("m", 1.0, entry_id="a")) == pytest.approx(0.79)
    # half as close as the best: kernel 0.5^1.5, or 0.5 with a linear kernel
    half = outcome("m", 1.0, entry_id="h", similarity=0.425)
    assert weigh(half) == pytest.approx(0.5**1.5 * 0.79)
    assert weigh(half, linear) == pytest.approx(0.5 * 0.79)
    # 90 days = one half-life; very old is floored at 0.2
    assert weigh(outcome("m", 1.0, entry_id="b", age_days=90)) == pytest.approx(0.79 * 0.5)
    assert weigh(outcome("m", 1.0, entry_id="c", age_days=3650)) == pytest.approx(0.79 * 0.2)
    stale_seed = outcome("m", 1.0, entry_id="d", is_stale=True, source="seed:routerbench")
    assert weigh(stale_seed) == pytest.approx(0.79 * 0.5 * 0.8)
    # at or below the absolute floor a neighbour does not count at all
    assert weigh(outcome("m", 1.0, entry_id="e", similarity=0.05)) == 0.0
    assert weigh(outcome("m", 1.0, entry_id="e", similarity=0.0), linear) == 0.0


@pytest.mark.parametrize("power", [0.5, 1.0, 1.5, 2.0, 2.5, 1.3, 6.0])
def test_the_kernel_power_is_any_power(power: float) -> None:
    settings = replace(S, similarity_power=power, similarity_floor=0.0)
    closeness = [1.0, 0.9, 0.5, 0.25, 0.01]
    recalled = neighbours(
        *(outcome("m", 1.0, entry_id=f"n{i}", similarity=0.8 * c) for i, c in enumerate(closeness))
    )
    got = neighbour_weights(recalled, 0.8, NOW, settings).tolist()
    assert got == pytest.approx([0.79 * c**power for c in closeness], rel=1e-12)


def test_observed_costs_are_weighted_means_when_every_neighbour_has_them() -> None:
    # (every row counted and priced: the counts and masses are reused, not recounted)
    recalled = neighbours(
        outcome("haiku", 1.0, entry_id="h1", similarity=0.8, cost_usd=0.001, output_tokens=100),
        outcome("haiku", 0.0, entry_id="h2", similarity=0.8, cost_usd=0.002, output_tokens=200),
        outcome("haiku", 1.0, entry_id="h3", similarity=0.2, cost_usd=0.009, output_tokens=900),
        outcome("lite", 0.0, entry_id="l1", similarity=0.8, cost_usd=0.0001, output_tokens=50),
    )
    evidence = aggregate(recalled, ["haiku", "lite"], NOW, S)
    near, far = 1.0, 0.25**1.5  # kernel weights relative to the best match
    haiku = evidence["haiku"]
    assert haiku.cost_samples == haiku.token_samples == haiku.counted == 3
    mass = 2 * near + far
    assert haiku.observed_cost == pytest.approx((near * 0.003 + far * 0.009) / mass)
    assert haiku.observed_output_tokens == pytest.approx((near * 300 + far * 900) / mass)
    assert evidence["lite"].observed_cost is None  # one sample is too few


def test_the_kernel_is_relative_to_the_best_match() -> None:
    # Same ordering and the same weights whatever the backend's similarity scale.
    def evidence(best: float, half: float) -> dict[str, ModelEvidence]:
        pair = [
            outcome("a", 1.0, entry_id="1", similarity=best),
            outcome("b", 0.0, entry_id="2", similarity=half),
        ]
        return aggregate(neighbours(*pair), ["a", "b"], NOW, S)

    low_scale, high_scale = evidence(0.2, 0.1), evidence(0.9, 0.45)
    for model_id in ("a", "b"):
        assert low_scale[model_id].weight == pytest.approx(high_scale[model_id].weight)
    assert low_scale["b"].weight == pytest.approx(0.5**1.5 * low_scale["a"].weight)


def test_aggregate_per_model_masses_and_observed_costs() -> None:
    w = 0.79  # every neighbour is a best match (similarity 0.85), kc 0.7
    recalled = neighbours(
        outcome("haiku", 1.0, entry_id="h1", cost_usd=0.002, output_tokens=500),
        outcome("haiku", 1.0, entry_id="h2", cost_usd=0.004, output_tokens=700),
        outcome("haiku", 0.0, entry_id="h3", cost_usd=0.003, output_tokens=600),
        outcome("haiku", 0.0, entry_id="h3"),  # duplicate entry counts once
        outcome("lite", 0.0, entry_id="l1", cost_usd=0.0001),
        outcome("not-a-candidate", 1.0, entry_id="x1"),
    )
    evidence = aggregate(recalled, ["haiku", "lite", "sonnet"], NOW, S)
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
    # 20 neighbours, similarity 0.85 * (20 - i) / 20: kernel ((20 - i) / 20) ** 1.5, kc 0.7;
    # the last (similarity 0.0425) is below the floor and does not count
    recalled = neighbours(
        *(outcome("m", 1.0, entry_id=f"n{i}", similarity=0.85 * (20 - i) / 20) for i in range(20))
    )
    found = aggregate(recalled, ["m"], NOW, S)["m"]
    assert found.counted == 19
    assert found.weight == pytest.approx(0.79 * sum((j / 20) ** 1.5 for j in range(2, 21)))
    assert found.neighbours.entry_ids == tuple(f"n{i}" for i in range(16))


@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcx"),  # x is not a candidate
            # few distinct values, so equal weights are common; 0.01 is below the
            # floor; weights a float apart, the closest there are
            st.sampled_from([0.01, 0.06, math.nextafter(0.06, 1.0), 0.5, 0.85]),
            st.sampled_from([0.0, 0.7, 1.0]),
        ),
        max_size=40,
    ),
    st.integers(1, 5),
)
# two weights a float apart, the lighter first in recall order
@example([("a", 0.85, 0.7), ("a", 0.06, 0.7), ("a", math.nextafter(0.06, 1.0), 0.7)], 3)
def test_kept_neighbours_are_the_heaviest_equal_weights_in_recall_order(
    rows: list[tuple[str, float, float]], keep: int
) -> None:
    settings = replace(S, kept_neighbours_per_model=keep)
    recalled = neighbours(
        *(
            outcome(m, 1.0, entry_id=f"n{i}", similarity=sim, knowledge_confidence=kc)
            for i, (m, sim, kc) in enumerate(rows)
        )
    )
    found = aggregate(recalled, ["a", "b", "c"], NOW, settings)
    about = [i for i, (m, _, _) in enumerate(rows) if m != "x"]
    best = max((rows[i][1] for i in about), default=0.0)
    weights = neighbour_weights(recalled, best, NOW, settings).tolist()
    for m in "abc":
        mine = [i for i in about if rows[i][0] == m and weights[i] > 0.0]
        heaviest = sorted(mine, key=lambda i: (-weights[i], i))[:keep]
        kept = found[m].neighbours.entry_ids if m in found else ()
        assert kept == tuple(f"n{i}" for i in heaviest)


def test_prediction_is_the_beta_blend_by_hand() -> None:
    # prior 0.85, k = 4; five best matches of weight 0.79, four of them successes
    evidence = aggregate(
        neighbours(
            *(outcome("m", 1.0, entry_id=str(i)) for i in range(4)), outcome("m", 0.0, entry_id="f")
        ),
        ["m"],
        NOW,
        S,
    )["m"]
    w = 5 * 0.79
    ws = 4 * 0.79
    mini, price = entry(CATALOG, "mini"), Price(0.001, CostBasis.ESTIMATE)
    blended = predict(mini, 0.85, evidence, price, 4.0)
    assert blended.predicted_success == pytest.approx((ws + 4 * 0.85) / (w + 4))
    assert blended.confidence == pytest.approx(w / (w + 4))
    assert blended.basis is DecisionBasis.MEMORY
    prior_only = predict(mini, 0.85, None, price, 4.0)
    assert (prior_only.predicted_success, prior_only.confidence) == (0.85, 0.0)
    assert prior_only.basis is DecisionBasis.PRIOR


def test_a_model_the_catalog_says_nothing_about_starts_from_the_pooled_success() -> None:
    # equal weights (0.79 each): "a" 3 of 3 succeeded, "b" 1 of 3 -> pooled 4 / 6
    recalled = aggregate(
        neighbours(
            *(outcome("a", 1.0, entry_id=f"a{i}") for i in range(3)),
            outcome("b", 1.0, entry_id="b0"),
            *(outcome("b", 0.0, entry_id=f"b{i}") for i in (1, 2)),
        ),
        ["a", "b"],
        NOW,
        S,
    )
    pooled = pooled_success(recalled.values(), S.pooled_prior_min_weight)
    assert pooled == pytest.approx(4 / 6)
    unknown = small_catalog(model("new", 1.0, 1.0)).entries[0]
    known = small_catalog(model("rated", 1.0, 1.0, capability_priors={"intelligence_index": 0.9}))
    assert unknown.prior(TaskType.CODE, Difficulty.MEDIUM, pooled) == pytest.approx(4 / 6)
    assert known.entries[0].prior(TaskType.CODE, Difficulty.MEDIUM, pooled) == 0.9
    # one neighbour (weight 0.79 < 2) is too little to pool: the neutral 0.5
    thin = aggregate(neighbours(outcome("a", 1.0, entry_id="x")), ["a"], NOW, S)
    assert pooled_success(thin.values(), S.pooled_prior_min_weight) == 0.5


def test_price_sensitivity_falls_with_the_slider() -> None:
    # 0.35 * (1 - slider/10) ** 3
    assert price_sensitivity(0, S) == pytest.approx(0.35)
    assert price_sensitivity(5, S) == pytest.approx(0.35 / 8)
    assert price_sensitivity(10, S) == 0.0
    assert price_sensitivity(-3, S) == pytest.approx(0.35)  # clamped to 0..10
    assert price_sensitivity(12, S) == 0.0


CATALOG = small_catalog(
    model("lite", 0.1, 0.4),
    model("mini", 0.5, 2.0),
    model("mid", 1.0, 5.0),
    model("big", 5.0, 25.0),
)


def _candidate(model_id: str, p: float, cost: float, confidence: float = 0.0) -> Candidate:
    basis = DecisionBasis.MEMORY if confidence else DecisionBasis.PRIOR
    price = Price(cost, CostBasis.ESTIMATE, cost, 0.0)
    return Candidate(model_id, entry(CATALOG, model_id), p, p, confidence, basis, price, cost, None)


def _pool() -> list[Candidate]:
    return [
        _candidate("big", 0.95, 0.05),
        _candidate("lite", 0.60, 0.0001),
        _candidate("mid", 0.80, 0.005),
        _candidate("mini", 0.76, 0.001),
    ]


# ln(cost / cheapest): lite 0.0001 is the cheapest
_LOG_RATIO = {"lite": 0.0, "mini": math.log(10), "mid": math.log(50), "big": math.log(500)}


def test_the_slider_trades_predicted_success_for_cost() -> None:
    # slider 4.5: lambda = 0.35 * 0.55**3 = 0.05823; value = p - lambda * ln(cost / cheapest)
    chosen = select(_pool(), 4.5, None, S)
    lam = 0.35 * 0.55**3
    value = {c: p - lam * _LOG_RATIO[c] for c, p in
             [("big", 0.95), ("lite", 0.60), ("mid", 0.80), ("mini", 0.76)]}  # fmt: skip
    # mini 0.626 beats lite 0.600, big 0.588 and mid 0.572
    assert [r.candidate.model_id for r in chosen.ranked] == ["mini", "lite", "big", "mid"]
    assert [r.score for r in chosen.ranked] == pytest.approx(
        [value[m] for m in ("mini", "lite", "big", "mid")], abs=1e-6
    )
    # tau is the pick's prediction: the pick is the cheapest model clearing it
    assert chosen.threshold == pytest.approx(0.76)
    assert chosen.met_threshold
    # fallback: the cheapest at least 0.03 more likely than the pick
    assert chosen.fallback is not None
    assert chosen.fallback.model_id == "mid"
    # 0 is the cheapest acceptable model, 10 the most likely to succeed
    assert select(_pool(), 0, None, S).pick.model_id == "lite"
    assert select(_pool(), 10, None, S).pick.model_id == "big"
    assert select(_pool(), 10, None, S).threshold == pytest.approx(0.95)


def test_min_quality_raises_the_floor() -> None:
    chosen = select(_pool(), 0, 0.78, S)
    assert chosen.pick.model_id == "mid"  # the cheapest of mid and big, both >= 0.78
    assert chosen.threshold == pytest.approx(0.80)
    # below the floor: p - floor - 1 - lambda * ln(priciest / cheapest), under every
    # acceptable candidate (lambda 0.35 at slider 0)
    scores = {r.candidate.model_id: r.score for r in chosen.ranked}
    assert scores["mini"] == pytest.approx(0.76 - 0.78 - 1 - 0.35 * math.log(500), abs=1e-5)
    assert scores["lite"] == pytest.approx(0.60 - 0.78 - 1 - 0.35 * math.log(500), abs=1e-5)
    assert [r.candidate.model_id for r in chosen.ranked] == ["mid", "big", "mini", "lite"]


def test_no_model_meets_threshold_picks_the_most_likely() -> None:
    pool = [_candidate("lite", 0.5, 0.0001), _candidate("big", 0.9, 0.05)]
    chosen = select(pool, 5, 0.95, S)
    assert chosen.pick.model_id == "big"
    assert chosen.threshold == pytest.approx(0.95)
    assert not chosen.met_threshold
    assert chosen.fallback is None  # nothing is more reliable than the pick


def test_nothing_acceptable_and_equally_likely_picks_the_cheapest() -> None:
    # cold start on neutral priors: every prediction 0.5, under tau_min 0.55
    pool = [_candidate(m, 0.5, c) for m, c in [("big", 0.05), ("mini", 0.001), ("mid", 0.005)]]
    chosen = select(pool, 5, None, S)
    assert chosen.pick.model_id == "mini"
    assert not chosen.met_threshold


def test_cap_keeps_the_pick_and_the_fallback() -> None:
    pool = [
        _candidate("lite", 0.80, 0.0001),
        _candidate("mini", 0.81, 0.001),
        _candidate("mid", 0.82, 0.005),
        _candidate("big", 0.97, 0.05),
    ]
    chosen = select(pool, 0, None, S)
    assert chosen.pick.model_id == "lite"
    assert chosen.fallback is not None
    assert chosen.fallback.model_id == "big"
    assert [r.candidate.model_id for r in cap_ranked(chosen, 2)] == ["lite", "big"]
    assert [r.candidate.model_id for r in cap_ranked(chosen, 1)] == ["lite", "big"]
    assert len(cap_ranked(chosen, 8)) == 4


def test_equal_costs_break_ties_by_predicted_success() -> None:
    chosen = select([_candidate("mini", 0.80, 0.001), _candidate("mid", 0.90, 0.001)], 0, None, S)
    assert chosen.pick.model_id == "mid"


def test_escalation_reasons() -> None:
    tied = select([_candidate("mini", 0.80, 0.001), _candidate("mid", 0.81, 0.001)], 5, None, S)
    assert escalation_reasons(tied, {}, S) == ["thin_evidence", "low_confidence", "tie"]

    split = [outcome("mini", q, entry_id=f"e{i}") for i, q in enumerate([1, 0, 1, 0, 1, 0])]
    agreed = [outcome("mid", 1.0, entry_id=f"m{i}") for i in range(6)]
    evidence = aggregate(neighbours(*split, *agreed), ["mini", "mid"], NOW, S)
    mini = predict(
        entry(CATALOG, "mini"), 0.8, evidence["mini"], Price(0.001, CostBasis.ESTIMATE, 0.001), 4.0
    )
    mid = predict(
        entry(CATALOG, "mid"), 0.8, evidence["mid"], Price(0.01, CostBasis.ESTIMATE, 0.01), 4.0
    )
    conflicted = select([mini, mid], 0, None, S)
    assert conflicted.pick.model_id == "mini"
    # 6 neighbours of weight 0.79 -> W 4.74 >= 2 with a 50% success rate;
    # confidence 4.74 / 8.74 = 0.54 is not low
    assert escalation_reasons(conflicted, evidence, S) == ["conflict"]


def test_cost_basis_tags() -> None:
    assert CostBasis.ESTIMATE.tag == "est"
    assert CostBasis.OBSERVED.tag == CostBasis.RESCALED.tag == "obs"


def test_evidence_refs_show_the_heaviest_neighbours_rounded() -> None:
    # weights: best 1 * (0.3 + 0.7 * 0.987654); stale (0.8 / 0.85)^1.5 * 0.79 * 0.5 = 0.36;
    # far (0.4 / 0.85)^1.5 * 0.79 = 0.26; "other" is not a candidate
    best = outcome("mini", 0.123456, entry_id="best", knowledge_confidence=0.987654)
    recalled = neighbours(
        outcome("mini", 1.0, entry_id="far", similarity=0.4),
        outcome("other", 1.0, entry_id="x", similarity=0.9),
        replace(best, reference_id="ref-1"),
        outcome("mini", 0.5, entry_id="stale", similarity=0.8, is_stale=True),
    )
    found = aggregate(recalled, ["mini"], NOW, S)["mini"]
    mini = predict(entry(CATALOG, "mini"), 0.8, found, Price(0.001, CostBasis.ESTIMATE), 4.0)
    assert evidence_refs([mini], 2) == [
        (
            EvidenceRef("best", "ref-1", "mini", 0.85, 0.9877, 0.1235, False),
            EvidenceRef("stale", None, "mini", 0.8, 0.7, 0.5, True),
        )
    ]
    [refs] = evidence_refs([mini], 5)
    assert [ref.entry_id for ref in refs] == ["best", "stale", "far"]


def test_evidence_refs_of_several_candidates_each_show_their_own_neighbours() -> None:
    recalled = neighbours(
        outcome("mini", 0.25, entry_id="m1", similarity=0.9),
        outcome("mid", 0.75, entry_id="d1", similarity=0.8, knowledge_confidence=0.12345),
        outcome("mini", 1.0, entry_id="m2", similarity=0.7),
    )
    evidence = aggregate(recalled, ["mini", "mid"], NOW, S)
    price = Price(0.001, CostBasis.ESTIMATE)
    mini = predict(entry(CATALOG, "mini"), 0.8, evidence["mini"], price, 4.0)
    mid = predict(entry(CATALOG, "mid"), 0.8, evidence["mid"], price, 4.0)
    cold = _candidate("big", 0.9, 0.01)

    assert evidence_refs([mid, cold, mini], 5) == [
        # 0.12345 rounds up, as round() does (the float is a hair above the tie)
        (EvidenceRef("d1", None, "mid", 0.8, 0.1235, 0.75, False),),
        (),
        (
            EvidenceRef("m1", None, "mini", 0.9, 0.7, 0.25, False),
            EvidenceRef("m2", None, "mini", 0.7, 0.7, 1.0, False),
        ),
    ]
    assert evidence_refs([cold], 5) == [()]


@given(
    st.lists(
        st.one_of(
            st.floats(-1e12, 1e12),
            st.floats(min_value=0.0, max_value=1.0),
            # decimal ties and their neighbours: 0.12345, 0.000005, ...
            st.integers(0, 10**7).map(lambda i: (2 * i + 1) / 2e5),
            st.integers(0, 10**7).map(lambda i: math.nextafter((2 * i + 1) / 2e9, 1.0)),
        ),
        max_size=50,
    ),
    st.sampled_from([1, 4, 6, 8]),
)
def test_rounded_matches_round_exactly(values: list[float], digits: int) -> None:
    got = rounded(np.array(values, dtype=np.float64), digits)
    want = [round(v, digits) for v in values]
    # == alone would take -0.0 for 0.0: compare the printed forms
    assert [repr(g) for g in got] == [repr(w) for w in want]
