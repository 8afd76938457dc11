"""Bounded, visible, deterministic exploration (Thompson sampling).

A model that was never tried keeps its prior forever if the pick only ever
follows the predictions: nothing would ever show it is cheap and good. So for
a capped share of requests, every candidate whose evidence weighs less than
`exploration_max_weight` gets a draw from its Beta posterior

    Beta(WS + k * prior, (W - WS) + k * (1 - prior))

(never below its prediction), and the whole decision - tau and pick - is made
again on those draws. When that picks a thin candidate other than the usual
pick, it is recommended with the warning `exploration_pick:<model>`; its
predicted success stays the honest one, and the fallback is a more reliable
model. The draws are seeded from (tenant, lane, task text): the same state and
the same request always give the same answer.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace

from minima_grpc.engine.decision import Decision, decide
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.select import Ranked, Selection, fallback_for
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.engine.types import RecommendRequest, Scope


@dataclass(frozen=True, slots=True)
class Exploration:
    decision: Decision
    # The explored model, when exploration changed the pick.
    model_id: str | None

    @property
    def warning(self) -> str | None:
        return f"exploration_pick:{self.model_id}" if self.model_id is not None else None


def exploration_seed(scope: Scope, text: str) -> int:
    digest = hashlib.sha256(f"{scope.tenant}\0{scope.lane}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def explore(
    request: RecommendRequest,
    decision: Decision,
    seed: int,
    settings: EngineSettings,
    reporting_share: float,
) -> Exploration:
    """`reporting_share`: how much of the lane's traffic reports outcomes back
    (engine/feedback_flow.py); exploring where nothing comes back only costs."""
    unchanged = Exploration(decision, None)
    # A caller's min_quality is a hard floor: never gamble below it.
    if request.constraints.min_quality is not None or not settings.exploration:
        return unchanged
    rng = random.Random(seed)
    if rng.random() >= settings.exploration_share * reporting_share:
        return unchanged
    draws = {
        c.model_id: _draw(rng, c, settings.exploration_pseudocount)
        for c in decision.scored.candidates
        if _mass(c) < settings.exploration_max_weight
    }
    if not draws:
        return unchanged
    optimistic = tuple(
        c._replace(predicted_success=draws[c.model_id]) if c.model_id in draws else c
        for c in decision.scored.candidates
    )
    trial = decide(request, replace(decision.scored, candidates=optimistic), settings)
    chosen = trial.selection.pick.model_id
    # Explore only a thin model whose draw clears the bar it would have to clear.
    if chosen not in draws or chosen == decision.selection.pick.model_id:
        return unchanged
    if not trial.selection.met_threshold:
        return unchanged
    honest = {c.model_id: c for c in decision.scored.candidates}
    pool = [honest[r.candidate.model_id] for r in trial.selection.ranked]
    selection = Selection(
        ranked=tuple(Ranked(c, r.score) for c, r in zip(pool, trial.selection.ranked, strict=True)),
        fallback=fallback_for(honest[chosen], pool, settings),
        # The honest tau: whether anything cleared it is still reported truthfully.
        threshold=decision.selection.threshold,
    )
    return Exploration(replace(decision, selection=selection), chosen)


def _mass(c: Candidate) -> float:
    return c.evidence.weight if c.evidence is not None else 0.0


def _draw(rng: random.Random, c: Candidate, pseudocount: float) -> float:
    w = _mass(c)
    ws = c.evidence.success_mass if c.evidence is not None else 0.0
    alpha = ws + pseudocount * c.prior
    beta = (w - ws) + pseudocount * (1.0 - c.prior)
    # Optimism only: a draw below the prediction would not be exploring.
    return max(c.predicted_success, rng.betavariate(max(alpha, 1e-6), max(beta, 1e-6)))
