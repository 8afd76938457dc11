"""Reference policies measured on the same prompts as the router."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minima_grpc.evaluation.metrics import Choices, Matrix, OperatingPoint, operating_point


@dataclass(frozen=True, slots=True)
class Baselines:
    single: dict[str, OperatingPoint]
    best_single: str  # most accurate single model; ties go to the cheaper one
    cheapest_single: str
    random: OperatingPoint  # expectation of a uniform pick per prompt
    oracle: OperatingPoint  # the best-scoring model per prompt, cheapest among ties
    oracle_choices: Choices


def measure_baselines(models: Sequence[str], scores: Matrix, costs: Matrix) -> Baselines:
    single = {
        model: operating_point(np.full(len(scores), i, dtype=np.int64), scores, costs)
        for i, model in enumerate(models)
    }
    best = max(single, key=lambda m: (single[m].accuracy, -single[m].cost_per_1k))
    cheapest = min(single, key=lambda m: (single[m].cost_per_1k, -single[m].accuracy))
    random = OperatingPoint(accuracy=float(scores.mean()), cost_per_1k=float(costs.mean() * 1000.0))
    # lexsort: last key is primary -> highest score first, then lowest cost.
    oracle_choices = np.array(
        [
            np.lexsort((cost_row, -score_row))[0]
            for score_row, cost_row in zip(scores, costs, strict=True)
        ],
        dtype=np.int64,
    )
    return Baselines(
        single=single,
        best_single=best,
        cheapest_single=cheapest,
        random=random,
        oracle=operating_point(oracle_choices, scores, costs),
        oracle_choices=oracle_choices,
    )
