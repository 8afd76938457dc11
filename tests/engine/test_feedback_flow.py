"""The share of a lane's traffic that reports outcomes back."""

from __future__ import annotations

import pytest

from minima_grpc.engine.feedback_flow import FeedbackFlow
from minima_grpc.engine.types import Scope

LANE = Scope(tenant="t", namespace="a")
OTHER = Scope(tenant="t", namespace="b")


def test_a_new_lane_gets_the_benefit_of_the_doubt() -> None:
    flow = FeedbackFlow(window=10)
    for _ in range(9):
        flow.recommended(LANE)
    assert flow.reporting_share(LANE) == 1.0
    flow.recommended(LANE)  # the 10th: now the counts speak
    assert flow.reporting_share(LANE) == 0.0
    assert flow.reporting_share(OTHER) == 1.0  # lanes are counted apart


def test_the_share_follows_the_feedback_that_comes_back() -> None:
    flow = FeedbackFlow(window=20)
    for n in range(400):
        flow.recommended(LANE)
        if n % 2 == 0:
            flow.reported(LANE)
    assert flow.reporting_share(LANE) == pytest.approx(0.5, abs=0.05)
    # feedback stops: the share decays by about 1/window per recommendation
    for _ in range(100):
        flow.recommended(LANE)
    assert flow.reporting_share(LANE) < 0.05
    # and recovers once outcomes flow again
    for _ in range(100):
        flow.recommended(LANE)
        flow.reported(LANE)
    assert flow.reporting_share(LANE) > 0.95


def test_a_window_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        FeedbackFlow(window=0)
