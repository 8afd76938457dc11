"""Offline routing-quality analysis: what per-prompt routing could reach on a dataset.

No server. A hashed TF-IDF embedding of the prompt (a stand-in for the local
embedder) and cosine k-NN over the *train* split, with every model's outcome
known (the state a full `minima seed` of the train split gives), predict each
model's success on each test prompt:

    weight = max(0, (similarity - floor) / (1 - floor)) ** power   (0 at or below floor)
    p      = (sum weight * outcome + pseudocount * 0.5) / (sum weight + pseudocount)

("engine defaults" reads k per model, floor, power and pseudocount from
engine/settings.py and uses the engine's relative kernel, similarity / best.)
Two selection rules turn predictions into picks over a sweep of their parameter:

- slider: the engine's rule (engine/select.py) at slider 0, 1, ..., 10: among
  models whose prediction reaches tau_min, the one maximising
  p - lambda(slider) * ln(price / cheapest price), else the most likely one;
- utility: p - lambda * ln(price / cheapest price) over a fine sweep of lambda
  and no floor (what the rule family could reach with any slider mapping).

Also shown: routing by the benchmark label (each benchmark's train accuracy per
model) and, as a bound for any per-benchmark router, the best choice per
benchmark made with hindsight on the test split itself. Prices are train-split
mean costs.

Last, whether the prompt says anything within a benchmark: for each benchmark,
how well the engine-default kNN prediction ranks its test prompts by each
model's real outcome (AUC; 0.5 = nothing beyond the benchmark label).

    python -m bench.routing_quality [--dataset PATH] [--dim 4096]
"""

from __future__ import annotations

import argparse
import itertools
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minima_grpc.engine.select import price_sensitivity
from minima_grpc.engine.settings import EngineSettings
from minima_grpc.evaluation.baselines import measure_baselines
from minima_grpc.evaluation.dataset import (
    Sample,
    costs_matrix,
    load_routing_dataset,
    scores_matrix,
)
from minima_grpc.evaluation.metrics import (
    Choices,
    Matrix,
    Point,
    aiq,
    hull_accuracy_at,
    operating_point,
)

DEFAULT_DATASET = (
    Path(__file__).resolve().parents[2] / "shared/data/routerbench/routerbench_0shot_subset.csv"
)
_WORD = re.compile(r"[a-z0-9_]+")
# The engine's price sensitivity at slider 0, 1, ..., 10.
SLIDER_LAMBDAS = [price_sensitivity(slider, EngineSettings()) for slider in range(11)]
LAMBDAS = np.geomspace(0.5, 1e-4, 40)
Vector = np.ndarray[tuple[int], np.dtype[np.float64]]
Mask = np.ndarray[tuple[int], np.dtype[np.bool_]]
Rule = Callable[[Matrix, Vector, float], Choices]

VIEWS: dict[str, Callable[[str], str]] = {
    "full prompt": lambda text: text,
    "first 512 chars": lambda text: text[:512],
    "last few-shot block": lambda text: text.rsplit("\n\n", 1)[-1],
}


@dataclass(frozen=True, slots=True)
class Weighting:
    name: str
    k: int
    floor: float
    power: float
    pseudocount: float
    # kernel relative to the closest neighbour, (s / best) ** power, as the engine does
    relative: bool = False
    # constant factor on every weight (the engine's reliability of a fresh record)
    scale: float = 1.0


def engine_weighting() -> Weighting:
    """The engine's current defaults (engine/settings.py), fresh records (confidence 0.5)."""
    settings = EngineSettings()
    return Weighting(
        name=f"engine defaults ({settings.recall_per_model_k}/model)",
        k=settings.recall_per_model_k,
        floor=settings.similarity_floor,
        power=settings.similarity_power,
        pseudocount=settings.pseudocount,
        relative=True,
        scale=settings.reliability_floor + (1 - settings.reliability_floor) * 0.5,
    )


WIDE = Weighting(name="k=256 linear", k=256, floor=0.0, power=1.0, pseudocount=4.0)


def embed(texts: Sequence[str], idf: Vector | None, dim: int) -> tuple[Matrix, Vector]:
    """Hashed unigram+bigram TF-IDF, L2-normalised; idf is fitted when None."""
    counts = np.zeros((len(texts), dim), dtype=np.float64)
    for row, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        for gram in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
            counts[row, zlib.crc32(gram.encode()) % dim] += 1.0
    if idf is None:
        document_frequency = (counts > 0).sum(axis=0)
        idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0
    vectors = np.log1p(counts) * idf
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms), idf


def knn_success(train: Matrix, outcomes: Matrix, test: Matrix, how: Weighting) -> Matrix:
    """Every train prompt has every model's outcome, so k per model is k overall."""
    similarity = test @ train.T
    nearest = np.argsort(-similarity, axis=1)[:, : how.k]
    near = np.take_along_axis(similarity, nearest, axis=1)
    if how.relative:
        closeness = near / np.maximum(near[:, :1], how.floor)
    else:
        closeness = (near - how.floor) / (1 - how.floor)
    weights = np.where(near > how.floor, np.clip(closeness, 0.0, None) ** how.power, 0.0)
    weights = weights * how.scale
    mass = (weights[:, :, None] * outcomes[nearest]).sum(axis=1)
    total = weights.sum(axis=1)[:, None]
    smoothed: Matrix = (mass + 0.5 * how.pseudocount) / (total + how.pseudocount)
    return smoothed


def slider_picks(predicted: Matrix, prices: Vector, lam: float) -> Choices:
    value = predicted - lam * np.log(prices / prices.min())[None, :]
    acceptable = predicted >= EngineSettings().tau_min
    best_acceptable = np.argmax(np.where(acceptable, value, -np.inf), axis=1)
    picks: Choices = np.where(acceptable.any(axis=1), best_acceptable, np.argmax(predicted, axis=1))
    return picks


def utility_picks(predicted: Matrix, prices: Vector, lam: float) -> Choices:
    penalty = lam * np.log(prices / prices.min())
    picks: Choices = np.argmax(predicted - penalty[None, :], axis=1)
    return picks


RULES: dict[str, tuple[Rule, Sequence[float]]] = {
    "slider": (slider_picks, SLIDER_LAMBDAS),
    "utility": (utility_picks, list(LAMBDAS)),
}


class Table:
    def __init__(self, scores: Matrix, costs: Matrix, prices: Vector, reference: int) -> None:
        self.scores, self.costs, self.prices = scores, costs, prices
        ref = operating_point(np.full(len(scores), reference), scores, costs)
        self.ref_acc, self.ref_cost = ref.accuracy, ref.cost_per_1k
        self.single_points: list[Point] = []
        for model in range(scores.shape[1]):
            point = operating_point(np.full(len(scores), model), scores, costs)
            self.single_points.append((point.cost_per_1k, point.accuracy))
        costs_only = [c for c, _ in self.single_points]
        self.cost_range = (min(costs_only), max(costs_only))
        print("acc@50% / acc@20%: accuracy reachable at 50% / 20% of the reference's cost (on")
        print("the hull of the measured points), as a share of the reference's accuracy.")
        print(f"{'policy':62s} {'AIQ':>6s} {'acc@50%':>8s} {'acc@20%':>8s}")

    def row(self, name: str, points: Sequence[Point]) -> None:
        half = hull_accuracy_at(points, 0.5 * self.ref_cost) or 0.0
        fifth = hull_accuracy_at(points, 0.2 * self.ref_cost) or 0.0
        area = aiq(points, *self.cost_range)
        print(f"{name:62s} {area:6.4f} {half / self.ref_acc:8.1%} {fifth / self.ref_acc:8.1%}")

    def rules(self, name: str, predicted: Matrix) -> None:
        for rule_name, (rule, grid) in RULES.items():
            points = []
            for value in grid:
                point = operating_point(
                    rule(predicted, self.prices, value), self.scores, self.costs
                )
                points.append((point.cost_per_1k, point.accuracy))
            self.row(f"{name}, {rule_name}", points)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--dim", type=int, default=4096)
    args = parser.parse_args()
    if not args.dataset.is_file():
        print(f"skipped: no dataset at {args.dataset} (evaluation data absent)")
        return 0
    data = load_routing_dataset(args.dataset)
    train, test = data.split("train"), data.split("test")
    outcomes, scores, costs = scores_matrix(train), scores_matrix(test), costs_matrix(test)
    prices: Vector = costs_matrix(train).mean(axis=0)
    base = measure_baselines(data.models, scores, costs)
    ref = base.single[base.best_single]
    print(
        f"{len(train)} train / {len(test)} test prompts. Reference {base.best_single}: "
        f"accuracy {ref.accuracy:.3f} at ${ref.cost_per_1k:.2f}/1k prompts; "
        f"oracle {base.oracle.accuracy:.3f} at ${base.oracle.cost_per_1k:.2f}/1k\n"
    )
    table = Table(scores, costs, prices, data.models.index(base.best_single))
    table.row("one model for everything", table.single_points)
    table.row("per benchmark, chosen with test hindsight (bound)", _hindsight(test, scores, costs))
    table.rules("benchmark label known", _label_predictions(train, test, outcomes))
    engine = engine_weighting()
    predictions: dict[tuple[str, str], Matrix] = {}
    for view_name, view in VIEWS.items():
        train_vectors, idf = embed([view(s.prompt) for s in train], None, args.dim)
        test_vectors, _ = embed([view(s.prompt) for s in test], idf, args.dim)
        for how in (engine, WIDE):
            predicted = knn_success(train_vectors, outcomes, test_vectors, how)
            predictions[view_name, how.name] = predicted
            table.rules(f"kNN {how.name}, {view_name}", predicted)
    _within_benchmark(test, scores, predictions["full prompt", engine.name])
    return 0


def _within_benchmark(test: Sequence[Sample], scores: Matrix, predicted: Matrix) -> None:
    print("\nWithin one benchmark: AUC of each model's kNN prediction against its outcome")
    print(f"{'benchmark':24s} {'prompts':>7s} {'median':>7s} {'lowest':>7s} {'highest':>7s}")
    for name in sorted({s.eval_name for s in test}):
        rows = np.array([s.eval_name == name for s in test])
        aucs = [
            auc
            for model in range(scores.shape[1])
            if (auc := _auc(predicted[rows, model], scores[rows, model] > 0.5)) is not None
        ]
        if aucs:
            low, mid, high = np.min(aucs), np.median(aucs), np.max(aucs)
            print(f"{name:24s} {rows.sum():7d} {mid:7.3f} {low:7.3f} {high:7.3f}")


def _auc(predicted: Vector, succeeded: Mask) -> float | None:
    """P(a success is predicted above a failure), ties counting half; None
    when the outcomes are all one kind."""
    wins, losses = predicted[succeeded], np.sort(predicted[~succeeded])
    if not len(wins) or not len(losses):
        return None
    below = np.searchsorted(losses, wins, "left") + np.searchsorted(losses, wins, "right")
    return float(below.sum()) / (2.0 * len(wins) * len(losses))


def _label_predictions(train: Sequence[Sample], test: Sequence[Sample], outcomes: Matrix) -> Matrix:
    rate = {
        name: outcomes[[s.eval_name == name for s in train]].mean(axis=0)
        for name in {s.eval_name for s in train}
    }
    return np.array([rate[s.eval_name] for s in test])


def _hindsight(test: Sequence[Sample], scores: Matrix, costs: Matrix) -> list[Point]:
    """Per benchmark, the model maximising test accuracy - lambda * test cost, over lambda."""
    groups = [np.array([s.eval_name == n for s in test]) for n in {s.eval_name for s in test}]
    points: list[Point] = []
    for lam in np.concatenate([[0.0], np.geomspace(1e-4, 10.0, 400)]):
        picks = np.zeros(len(test), dtype=np.int64)
        for rows in groups:
            gain = scores[rows].mean(axis=0) - lam * costs[rows].mean(axis=0) * 1000.0
            picks[rows] = int(np.argmax(gain))
        point = operating_point(picks, scores, costs)
        points.append((point.cost_per_1k, point.accuracy))
    return points


if __name__ == "__main__":
    raise SystemExit(main())
