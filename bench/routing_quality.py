"""Offline routing-quality analysis: what per-prompt routing could reach on a dataset.

No server. A hashed TF-IDF embedding of the prompt (a stand-in for a local
embedder) and cosine k-NN over the *train* split with every model's outcome
known (the state a full `minima seed` of the train split gives) predict each
model's success on each test prompt (similarity-weighted, Beta-smoothed toward a
neutral 0.5). Two selection rules turn predictions into picks over a sweep:

- threshold: the cheapest model whose prediction clears tau, else the most
  likely one (the engine's documented rule);
- utility: the model maximising prediction - lambda * price / max price.

Also shown: routing by the benchmark label (each benchmark's train accuracy per
model) and, as a bound, the best any per-benchmark routing can do when chosen
with hindsight on the test split itself. Prices are train-split mean costs.

    python -m bench.routing_quality [--dataset PATH] [--dim 4096]
"""

from __future__ import annotations

import argparse
import itertools
import re
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

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
TAUS = np.linspace(0.30, 1.0, 36)
LAMBDAS = np.concatenate([[0.0], np.geomspace(1e-3, 2.0, 60)])
Vector = np.ndarray[tuple[int], np.dtype[np.float64]]

VIEWS: dict[str, Callable[[str], str]] = {
    "full prompt": lambda text: text,
    "first 512 chars": lambda text: text[:512],
    "last few-shot block": lambda text: text.rsplit("\n\n", 1)[-1],
}


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


def knn_success(train: Matrix, outcomes: Matrix, test: Matrix, k: int) -> Matrix:
    similarity = test @ train.T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 0.0, None)
    mass = (weights[:, :, None] * outcomes[nearest]).sum(axis=1)
    smoothed: Matrix = (mass + 1.0) / (weights.sum(axis=1)[:, None] + 2.0)
    return smoothed


def threshold_picks(predicted: Matrix, prices: Vector, tau: float) -> Choices:
    cleared = predicted >= tau
    cheapest_clearing = np.argmin(np.where(cleared, prices[None, :], np.inf), axis=1)
    picks: Choices = np.where(cleared.any(axis=1), cheapest_clearing, np.argmax(predicted, axis=1))
    return picks


def utility_picks(predicted: Matrix, prices: Vector, lam: float) -> Choices:
    picks: Choices = np.argmax(predicted - lam * prices[None, :] / prices.max(), axis=1)
    return picks


class Table:
    def __init__(self, scores: Matrix, costs: Matrix, ref_acc: float, ref_cost: float) -> None:
        self.scores, self.costs = scores, costs
        self.ref_acc, self.ref_cost = ref_acc, ref_cost
        singles = [
            operating_point(np.full(len(scores), m), scores, costs) for m in range(scores.shape[1])
        ]
        self.single_points: list[Point] = [(p.cost_per_1k, p.accuracy) for p in singles]
        self.cost_range = (
            min(c for c, _ in self.single_points),
            max(c for c, _ in self.single_points),
        )
        print("acc@50% / acc@20%: hull accuracy at 50% / 20% of the reference's cost, as a share")
        print("of the reference's accuracy (points between two measured ones mix them at random).")
        print(f"{'policy':48s} {'AIQ':>6s} {'acc@50%':>8s} {'acc@20%':>8s}")

    def row(self, name: str, points: Sequence[Point]) -> None:
        half = hull_accuracy_at(points, 0.5 * self.ref_cost) or 0.0
        fifth = hull_accuracy_at(points, 0.2 * self.ref_cost) or 0.0
        area = aiq(points, *self.cost_range)
        print(f"{name:48s} {area:6.4f} {half / self.ref_acc:8.1%} {fifth / self.ref_acc:8.1%}")

    def curve(self, name: str, picks: Sequence[Choices]) -> None:
        points = [operating_point(c, self.scores, self.costs) for c in picks]
        self.row(name, [(p.cost_per_1k, p.accuracy) for p in points])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--dim", type=int, default=4096)
    args = parser.parse_args()
    if not args.dataset.is_file():
        raise SystemExit(f"dataset not found: {args.dataset}")
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
    table = Table(scores, costs, ref.accuracy, ref.cost_per_1k)
    table.row("one model for everything (single-model hull)", table.single_points)
    table.row("per-benchmark, chosen with test hindsight", _hindsight_points(test, scores, costs))
    by_label = _label_predictions(train, test, outcomes)
    table.curve(
        "benchmark label known, threshold rule",
        [threshold_picks(by_label, prices, t) for t in TAUS],
    )
    table.curve(
        "benchmark label known, utility rule",
        [utility_picks(by_label, prices, lam) for lam in LAMBDAS],
    )
    for (view_name, view), k in itertools.product(VIEWS.items(), (32, 256)):
        train_vectors, idf = embed([view(s.prompt) for s in train], None, args.dim)
        test_vectors, _ = embed([view(s.prompt) for s in test], idf, args.dim)
        predicted = knn_success(train_vectors, outcomes, test_vectors, k)
        table.curve(
            f"kNN k={k} {view_name}, threshold",
            [threshold_picks(predicted, prices, t) for t in TAUS],
        )
        table.curve(
            f"kNN k={k} {view_name}, utility",
            [utility_picks(predicted, prices, lam) for lam in LAMBDAS],
        )


def _label_predictions(train: Sequence[Sample], test: Sequence[Sample], outcomes: Matrix) -> Matrix:
    """Each benchmark's train accuracy per model as the prediction."""
    rate = {
        name: outcomes[[s.eval_name == name for s in train]].mean(axis=0)
        for name in {s.eval_name for s in train}
    }
    return np.array([rate[s.eval_name] for s in test])


def _hindsight_points(test: Sequence[Sample], scores: Matrix, costs: Matrix) -> list[Point]:
    """Per benchmark, the model maximising test accuracy - lambda * test cost, over lambda."""
    groups = {
        name: np.array([s.eval_name == name for s in test]) for name in {s.eval_name for s in test}
    }
    points: list[Point] = []
    for lam in np.concatenate([[0.0], np.geomspace(1e-4, 10.0, 400)]):
        picks = np.zeros(len(test), dtype=np.int64)
        for rows in groups.values():
            gain = scores[rows].mean(axis=0) - lam * costs[rows].mean(axis=0) * 1000.0
            picks[rows] = int(np.argmax(gain))
        point = operating_point(picks, scores, costs)
        points.append((point.cost_per_1k, point.accuracy))
    return points


if __name__ == "__main__":
    main()
