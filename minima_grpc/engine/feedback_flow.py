"""How much of a lane's traffic reports outcomes back, so exploration runs only
where it can pay off.

Exploring recommends a model the engine is unsure of, at some risk to the
caller, to learn from its outcome. In a lane whose recommendations get no
feedback it teaches nothing and only costs. Per lane, counts of
recommendations and of accepted feedback, both decayed by (1 - 1/window) at
every recommendation, give the share of recent traffic that reports back;
exploration's share of requests is scaled by it.

A lane's first `window` recommendations get the benefit of the doubt (1.0):
outcomes arrive after the recommendations they answer. Counts live in the
process: behind a load balancer each replica sees its share of both
recommendations and feedback, so the ratio still holds; after a restart every
lane starts over.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from minima_grpc.engine.types import Scope

# Lanes tracked at once; the least recently used is forgotten first.
MAX_LANES = 10_000


@dataclass(slots=True)
class _Counts:
    recommendations: float = 0.0
    feedback: float = 0.0
    seen: int = 0


class FeedbackFlow:
    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("the feedback window must be at least one recommendation")
        self._window = window
        self._decay = 1.0 - 1.0 / window
        self._lanes: OrderedDict[tuple[str, str], _Counts] = OrderedDict()

    def reporting_share(self, scope: Scope) -> float:
        """Share of the lane's recent recommendations that got feedback, in [0, 1]."""
        counts = self._lanes.get((scope.tenant, scope.lane))
        if counts is None or counts.seen < self._window:
            return 1.0
        return min(1.0, counts.feedback / counts.recommendations)

    def recommended(self, scope: Scope) -> None:
        counts = self._counts(scope)
        counts.recommendations = counts.recommendations * self._decay + 1.0
        counts.feedback *= self._decay
        counts.seen += 1

    def reported(self, scope: Scope) -> None:
        self._counts(scope).feedback += 1.0

    def _counts(self, scope: Scope) -> _Counts:
        key = (scope.tenant, scope.lane)
        counts = self._lanes.pop(key, None) or _Counts()
        self._lanes[key] = counts
        if len(self._lanes) > MAX_LANES:
            self._lanes.popitem(last=False)
        return counts
