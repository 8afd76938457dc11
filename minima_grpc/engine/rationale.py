"""Readable reasons and evidence refs for each ranked model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minima_grpc.engine.classify import Classification
from minima_grpc.engine.cost import CostBasis
from minima_grpc.engine.predict import Candidate
from minima_grpc.engine.types import DecisionBasis, EvidenceRef
from minima_grpc.memory.protocol import FloatArray


def task_label(classification: Classification) -> str:
    """How rationales name the task: type/difficulty."""
    return f"{classification.task_type.value}/{classification.difficulty.value}"


def rationale(c: Candidate, label: str, tau: float, basis: CostBasis) -> str:
    """Why the candidate is predicted to succeed as it is, and what it costs;
    `label` is the task's (task_label)."""
    evidence = c.evidence
    if evidence is not None and c.confidence > 0:
        n = evidence.counted
        knowledge = (
            f"{n} similar past outcome{'s' if n != 1 else ''} "
            f"(weight {evidence.weight:.2f}, weighted success {evidence.success_rate:.0%}) "
            f"blended with prior {c.prior:.0%} for {label}"
        )
    else:
        knowledge = f"no similar past outcomes; capability prior {c.prior:.0%} for {label}"
    if c.basis is DecisionBasis.LLM:
        knowledge += "; adjusted by the reasoner"
    verdict = "clears" if c.predicted_success >= tau else "below"
    return (
        f"{knowledge}; predicted {c.predicted_success:.0%} {verdict} threshold {tau:.2f}; "
        f"{basis.tag} ${c.cost:.6f}/call"
    )


def evidence_refs(candidates: Sequence[Candidate], limit: int) -> list[tuple[EvidenceRef, ...]]:
    """For each candidate, the `limit` heaviest neighbours behind its
    prediction, read from the recall all the candidates' evidence comes from.

    The figures of every ref shown are gathered and rounded in one numpy pass:
    three round() calls and three numpy scalars per ref cost far more.
    """
    shown = [c.evidence.neighbours.rows[:limit] if c.evidence else () for c in candidates]
    rows = [j for part in shown for j in part]
    recall = next((c.evidence.neighbours.recall for c in candidates if c.evidence), None)
    if recall is None or not rows:
        return [() for _ in candidates]
    picked = np.array(rows, dtype=np.intp)
    columns = (recall.similarity, recall.knowledge_confidence, recall.quality)
    figures = rounded(np.concatenate([column[picked] for column in columns]), 4)
    n = len(rows)
    scores, confidences, successes = (figures[k * n : (k + 1) * n] for k in range(len(columns)))
    stale: list[bool] = recall.is_stale[picked].tolist()
    # (the kept neighbours' entry ids are formatted already; in `rows` order)
    entry_ids = [
        e for c in candidates if c.evidence for e in c.evidence.neighbours.entry_ids[:limit]
    ]
    references = recall.reference_ids.take(rows)
    model_ids = [c.model_id for c, part in zip(candidates, shown, strict=True) for _ in part]
    # (built from zipped columns: a NamedTuple's own __new__ is a Python call per ref)
    every = list(
        map(
            EvidenceRef._make,
            zip(
                entry_ids, references, model_ids, scores, confidences, successes, stale, strict=True
            ),
        )
    )
    refs = []
    first = 0  # where the candidate's refs start in `every`
    for part in shown:
        refs.append(tuple(every[first : first + len(part)]))
        first += len(part)
    return refs


def rounded(values: FloatArray, digits: int) -> list[float]:
    """round(v, digits) of each value, exactly.

    np.round scales, rounds to an integer and scales back; the scaling rounds
    too, so at a decimal tie it can differ from round(), which rounds the exact
    value (np.round(0.12345, 4) is 0.1234, round(0.12345, 4) 0.1235). The two
    agree wherever the scaled value is clearly off a tie - by more than its
    rounding error, below |scaled| * 2**-53 - and round() takes the rest: ties,
    huge values (numpy may warn of their overflow), inf and NaN. `digits` is
    0 to 15, so that 10**digits is exact.
    """
    scale = 10.0**digits
    scaled = values * scale
    nearest = np.rint(scaled)
    out: list[float] = (nearest / scale).tolist()
    clear = np.abs(scaled - nearest) + np.abs(scaled) * 2.0**-50 < 0.5
    if not clear.all():
        for i in np.flatnonzero(~clear).tolist():
            out[i] = round(float(values[i]), digits)
    return out
