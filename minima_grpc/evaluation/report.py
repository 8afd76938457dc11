"""Every figure of a replay in one JSON-ready document, and the terminal table.

With several learning paths (replay.py) every router figure is the mean over
the paths - each test prompt counted once per path - and each path's own
accuracy, cost and AIQ are kept next to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from minima_grpc.evaluation.baselines import Baselines, measure_baselines
from minima_grpc.evaluation.dataset import RoutingDataset, costs_matrix, scores_matrix
from minima_grpc.evaluation.history import SeedSummary
from minima_grpc.evaluation.metrics import (
    Choices,
    Matrix,
    OperatingPoint,
    Point,
    aiq,
    hull_accuracy_at,
    mean_ci95,
    model_mix,
    operating_point,
    oracle_saving_captured,
    pick_stability,
)
from minima_grpc.evaluation.replay import LearningPath, Pass, PassStats, ReplayResult

# The issue's targets, relative to the most accurate single model.
TARGETS = (
    ("reference accuracy at <= 50% of its cost", 1.00, 0.50),
    (">= 95% of reference accuracy at <= 20% of its cost", 0.95, 0.20),
)


def build_report(
    dataset: RoutingDataset, result: ReplayResult, context: dict[str, Any]
) -> dict[str, Any]:
    """`context` (server, catalog file, options) is stored as given."""
    test = _TestSplit(dataset)
    paths = result.paths
    router_points: list[Point] = []
    sliders: list[dict[str, Any]] = []
    for position, slider in enumerate(result.plan.sliders):
        runs = [path.runs[position] for path in paths]
        entry = test.slider_entry(slider, [run.test for run in runs])
        router_points.append((entry["cost_per_1k"], entry["accuracy"]))
        if runs[0].learned is not None:
            entry["learning"] = [_learning(run.learned, dataset) for run in runs]
        sliders.append(entry)
    base, ref, singles = test.base, test.ref, test.singles
    cost_range = (min(c for c, _ in singles), max(c for c, _ in singles))
    path_points = [test.points(path) for path in paths]
    choices_by_slider = [
        np.concatenate([path.runs[position].test.choices for path in paths])
        for position in range(len(sliders))
    ]
    return {
        "dataset": {
            "source": dataset.source,
            "models": list(dataset.models),
            "train_prompts": len(dataset.split("train")),
            "test_prompts": len(test.samples),
            "skipped_rows": dict(dataset.skipped),
        },
        "protocol": asdict(result.plan),
        "context": context,
        "reference_model": base.best_single,
        "baselines": {
            "single_models": {m: test.figures(p) for m, p in base.single.items()},
            "cheapest_model": base.cheapest_single,
            "random_expected": test.figures(base.random),
            "oracle": test.figures(base.oracle),
        },
        "router": sliders,
        "learning": [_learning(path.learned, dataset) for path in paths if path.learned],
        "curve": {
            "cost_range_per_1k": list(cost_range),
            "aiq_router": aiq(router_points, *cost_range),
            "aiq_router_per_path": [aiq(points, *cost_range) for points in path_points],
            "aiq_one_model_for_everything": aiq(singles, *cost_range),
            "aiq_oracle": aiq([(base.oracle.cost_per_1k, base.oracle.accuracy)], *cost_range),
        },
        "pick_stability": asdict(pick_stability(choices_by_slider)),
        "targets": _targets(sliders, router_points, path_points, ref),
        "seconds": result.seconds,
    }


class _TestSplit:
    """The test prompts with their ground truth and baselines."""

    def __init__(self, dataset: RoutingDataset) -> None:
        self.models = dataset.models
        self.samples = dataset.split("test")
        self.scores: Matrix = scores_matrix(self.samples)
        self.costs: Matrix = costs_matrix(self.samples)
        self.eval_names = np.array([s.eval_name for s in self.samples])
        self.base: Baselines = measure_baselines(self.models, self.scores, self.costs)
        self.ref = self.base.single[self.base.best_single]
        self.singles: list[Point] = [(p.cost_per_1k, p.accuracy) for p in self.base.single.values()]

    def figures(self, point: OperatingPoint) -> dict[str, float]:
        ref, oracle = self.ref, self.base.oracle
        return {
            "accuracy": point.accuracy,
            "cost_per_1k": point.cost_per_1k,
            "cost_vs_reference": point.cost_per_1k / ref.cost_per_1k,
            "accuracy_vs_reference": point.accuracy / ref.accuracy,
            "oracle_saving_captured": oracle_saving_captured(
                point.cost_per_1k, ref.cost_per_1k, oracle.cost_per_1k
            ),
        }

    def points(self, path: LearningPath) -> list[Point]:
        """One learning path's (cost per 1k, accuracy) at each setting."""
        measured = [operating_point(r.test.choices, self.scores, self.costs) for r in path.runs]
        return [(p.cost_per_1k, p.accuracy) for p in measured]

    def slider_entry(self, slider: float, passes: Sequence[Pass]) -> dict[str, Any]:
        """One setting, pooled over the learning paths (one pass each)."""
        copies = len(passes)
        choices = np.concatenate([p.choices for p in passes])
        scores, costs = np.tile(self.scores, (copies, 1)), np.tile(self.costs, (copies, 1))
        point = operating_point(choices, scores, costs)
        mix = model_mix(choices, self.models)
        one_model = hull_accuracy_at(self.singles, point.cost_per_1k)
        chosen = scores[np.arange(len(choices)), choices].reshape(copies, -1).mean(axis=0)
        reference = self.models.index(self.base.best_single)
        # Paired by prompt: how sure is the accuracy gap to the reference model?
        gap = chosen - self.scores[:, reference]
        per_path = [operating_point(p.choices, self.scores, self.costs) for p in passes]
        return {
            "slider": slider,
            **self.figures(point),
            "per_path": [{"accuracy": q.accuracy, "cost_per_1k": q.cost_per_1k} for q in per_path],
            "accuracy_gap_to_reference_ci95": mean_ci95(gap),
            # Accuracy above the best one-model-for-everything policy at the same cost.
            "lift_over_one_model": None if one_model is None else point.accuracy - one_model,
            "models_used": mix.distinct_models,
            "model_shares": mix.shares,
            "per_benchmark": self._per_benchmark(choices, scores, costs),
            "engine": _stats(PassStats.merged([p.stats for p in passes])),
        }

    def _per_benchmark(self, choices: Choices, scores: Matrix, costs: Matrix) -> dict[str, Any]:
        """`choices` may cover the test split several times over (learning paths)."""
        names = np.tile(self.eval_names, len(choices) // len(self.eval_names))
        out: dict[str, Any] = {}
        for name in sorted(set(self.eval_names)):
            rows = names == name
            point = operating_point(choices[rows], scores[rows], costs[rows])
            mix = model_mix(choices[rows], self.models)
            out[str(name)] = {
                "prompts": int((self.eval_names == name).sum()),
                "accuracy": point.accuracy,
                "cost_per_1k": point.cost_per_1k,
                "top_model": mix.top_model,
                "top_share": mix.top_share,
            }
        return out


def _stats(stats: PassStats) -> dict[str, Any]:
    n = max(1, stats.prompts)
    explored = sum(n for w, n in stats.warnings.items() if w.startswith("exploration_pick:"))
    return {
        "decision_basis": dict(stats.decision_basis),
        # Picks the engine made to learn (it cannot know no feedback will follow).
        "exploration_share": explored / n,
        "warnings": dict(Counter(stats.warnings).most_common()),
        "classified_task_types": dict(stats.task_types),
        "mean_predicted_success": stats.predicted_success_sum / n,
        "feedback_accepted": stats.feedback_accepted,
        "feedback_rejected": stats.feedback_rejected,
        "seconds": stats.seconds,
        "recommend_per_second": stats.prompts / stats.seconds if stats.seconds else None,
    }


def _learning(learned: Pass | SeedSummary | None, dataset: RoutingDataset) -> dict[str, Any] | None:
    if learned is None:
        return None
    if isinstance(learned, SeedSummary):
        return {"mode": "full", **asdict(learned)}
    train = dataset.split("train")
    point = operating_point(learned.choices, scores_matrix(train), costs_matrix(train))
    return {
        "mode": "bandit",
        "accuracy": point.accuracy,
        "cost_per_1k": point.cost_per_1k,
        "model_shares": model_mix(learned.choices, dataset.models).shares,
        "engine": _stats(learned.stats),
    }


def _targets(
    sliders: Sequence[dict[str, Any]],
    router_points: Sequence[Point],
    path_points: Sequence[Sequence[Point]],
    ref: OperatingPoint,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, accuracy_share, cost_share in TARGETS:
        budget = cost_share * ref.cost_per_1k
        required = accuracy_share * ref.accuracy
        affordable = [s for s in sliders if s["cost_vs_reference"] <= cost_share]
        best = max(affordable, key=lambda s: s["accuracy"], default=None)
        out.append(
            {
                "target": name,
                "required_accuracy": required,
                "cost_budget_per_1k": budget,
                "best_slider": None if best is None else best["slider"],
                "best_accuracy": None if best is None else best["accuracy"],
                "met": best is not None and best["accuracy"] >= required,
                "met_in_paths": sum(
                    any(cost <= budget and accuracy >= required for cost, accuracy in points)
                    for points in path_points
                ),
                # Reachable by mixing two measured settings at random (not a measured point).
                "hull_accuracy_at_budget": hull_accuracy_at(router_points, budget),
            }
        )
    return out


def render_table(report: dict[str, Any]) -> str:
    ref_name = report["reference_model"]
    data = report["dataset"]
    plan = report["protocol"]
    paths = plan["paths"]
    lines = [
        f"Routing quality on {data['source']}: {data['train_prompts']} train / "
        f"{data['test_prompts']} test prompts, {len(data['models'])} models",
        f"protocol {plan['protocol']}, learning {plan['learn']}"
        + (
            f" at slider {plan['train_slider']:g}, namespace {plan['namespace'] or 'default'}"
            if plan["protocol"] == "frozen"
            else f", namespaces {plan['namespace'] or 'eval'}-s<slider>"
        )
        + (
            f"; {paths} learning paths (namespaces -p1..-p{paths}): router figures are their "
            "mean, 'paths' the range of their accuracies"
            if paths > 1
            else ""
        ),
        "",
        f"{'policy':44s} {'accuracy':>8s} {'$/1k':>8s} {'cost/ref':>8s} {'acc/ref':>8s} "
        f"{'oracle sav.':>11s} {'vs 1-model':>10s} {'memory':>6s} {'explored':>8s}"
        + (f" {'paths':>11s}" if paths > 1 else "")
        + "  models used",
    ]
    for s in report["router"]:
        lift = "" if s["lift_over_one_model"] is None else f"{s['lift_over_one_model']:+.3f}"
        top, share = next(iter(s["model_shares"].items()))
        # Share of picks the engine based on recalled evidence (not priors alone).
        bases = s["engine"]["decision_basis"]
        memory = bases.get("memory", 0) / max(1, sum(bases.values()))
        accuracies = [p["accuracy"] for p in s["per_path"]]
        spread = f" {min(accuracies):5.3f}-{max(accuracies):5.3f}" if paths > 1 else ""
        lines.append(
            _row(f"minima slider {s['slider']:g}", s)
            + f" {lift:>10s} {memory:6.0%} {s['engine']['exploration_share']:8.1%}{spread}"
            + f"  {s['models_used']} (top {top} {share:.0%})"
        )
    lines.append("")
    base = report["baselines"]
    singles = sorted(base["single_models"].items(), key=lambda kv: kv[1]["cost_per_1k"])
    for model, point in singles:
        role = {ref_name: " (reference)", base["cheapest_model"]: " (cheapest)"}.get(model, "")
        lines.append(_row(model + role, point))
    lines.append(_row("random (expected)", base["random_expected"]))
    lines.append(_row("oracle", base["oracle"]))
    curve = report["curve"]
    low, high = curve["cost_range_per_1k"]
    stability = report["pick_stability"]
    each_path = ", ".join(f"{a:.4f}" for a in curve["aiq_router_per_path"])
    lines += [
        "",
        f"AIQ over ${low:.3f}-${high:.3f} per 1k: minima {curve['aiq_router']:.4f}, "
        f"one model for everything {curve['aiq_one_model_for_everything']:.4f}, "
        f"oracle {curve['aiq_oracle']:.4f}" + (f"; each path: {each_path}" if paths > 1 else ""),
        f"picks per prompt across sliders: {stability['mean_distinct_per_prompt']:.2f} distinct "
        f"models on average; the pick changes for {stability['share_of_prompts_changed']:.0%} "
        "of prompts",
    ]
    for target in report["targets"]:
        verdict = "MET" if target["met"] else "not met"
        best = (
            "no slider within budget"
            if target["best_slider"] is None
            else f"best within budget: slider {target['best_slider']:g}, "
            f"accuracy {target['best_accuracy']:.3f}"
        )
        hull = target["hull_accuracy_at_budget"]
        mixed = "" if hull is None else f"; mixing two settings reaches {hull:.3f}"
        in_paths = f"; met in {target['met_in_paths']} of {paths} paths" if paths > 1 else ""
        lines.append(
            f"target {target['target']} (>= {target['required_accuracy']:.3f} at <= "
            f"${target['cost_budget_per_1k']:.2f}/1k): {verdict}; {best}{mixed}{in_paths}"
        )
    return "\n".join(lines)


def _row(label: str, point: dict[str, Any]) -> str:
    return (
        f"{label[:44]:44s} {point['accuracy']:8.3f} {point['cost_per_1k']:8.3f} "
        f"{point['cost_vs_reference']:8.1%} {point['accuracy_vs_reference']:8.1%} "
        f"{point['oracle_saving_captured']:11.1%}"
    )
