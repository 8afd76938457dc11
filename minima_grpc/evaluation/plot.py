"""The cost-quality plot of a report: the router's sweep against the baselines."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minima_grpc.evaluation.metrics import Point, nondecreasing_hull


def plot_report(report: dict[str, Any], path: Path) -> Path:
    router = report["router"]
    singles = report["baselines"]["single_models"]
    ref = singles[report["reference_model"]]
    # A bare Agg figure: no pyplot, no global backend state, never a display.
    figure = Figure(figsize=(10, 6.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.subplots()

    single_points: list[Point] = [(p["cost_per_1k"], p["accuracy"]) for p in singles.values()]
    _hull(axes, single_points, "one model for everything (hull)", "0.55")
    for model, point in singles.items():
        axes.scatter(point["cost_per_1k"], point["accuracy"], color="0.35", s=22, zorder=3)
        axes.annotate(
            model.split("/")[-1],
            (point["cost_per_1k"], point["accuracy"]),
            fontsize=7,
            xytext=(4, -8),
            textcoords="offset points",
            color="0.3",
        )

    router_points: list[Point] = [(s["cost_per_1k"], s["accuracy"]) for s in router]
    if len(router[0]["per_path"]) > 1:
        for number, history in enumerate(zip(*(s["per_path"] for s in router), strict=True)):
            axes.plot(
                [p["cost_per_1k"] for p in history],
                [p["accuracy"] for p in history],
                lw=0.8,
                alpha=0.45,
                color="tab:blue",
                label="minima, each learning path" if number == 0 else None,
                zorder=3,
            )
    axes.plot(
        *zip(*router_points, strict=True),
        marker="o",
        color="tab:blue",
        label="minima (slider sweep)",
        zorder=4,
    )
    for s in router:
        axes.annotate(
            f"{s['slider']:g}",
            (s["cost_per_1k"], s["accuracy"]),
            fontsize=7,
            xytext=(-3, 6),
            textcoords="offset points",
            color="tab:blue",
        )
    _hull(axes, router_points, "minima (hull)", "tab:blue")

    for key, label, marker, color in (
        ("oracle", "oracle", "*", "tab:green"),
        ("random_expected", "random (expected)", "X", "tab:red"),
    ):
        point = report["baselines"][key]
        axes.scatter(
            point["cost_per_1k"],
            point["accuracy"],
            marker=marker,
            s=110,
            color=color,
            label=label,
            zorder=5,
        )

    for number, target in enumerate(report["targets"]):
        budget, needed = target["cost_budget_per_1k"], target["required_accuracy"]
        axes.plot(
            [budget, budget, 0],
            [0, needed, needed],
            ls=":",
            color="tab:orange",
            lw=1,
            label="targets (accuracy within a cost budget)" if number == 0 else None,
        )
    axes.axhline(ref["accuracy"], color="0.8", lw=0.8, zorder=0)

    costs = [c for c, _ in single_points + router_points]
    axes.set_xscale("log")
    axes.set_xlim(min(costs) * 0.7, max(costs) * 1.4)
    accuracies = [a for _, a in single_points + router_points] + [
        report["baselines"]["oracle"]["accuracy"]
    ]
    axes.set_ylim(min(accuracies) - 0.03, min(1.0, max(accuracies) + 0.03))
    axes.set_xlabel("USD per 1,000 prompts (log scale)")
    axes.set_ylabel("accuracy (mean score)")
    curve = report["curve"]
    data = report["dataset"]
    axes.set_title(
        f"{data['source']}: test split, {data['test_prompts']} prompts (AIQ minima "
        f"{curve['aiq_router']:.3f}, one model {curve['aiq_one_model_for_everything']:.3f})",
        fontsize=10,
    )
    axes.grid(True, which="both", alpha=0.25)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _hull(axes: Axes, points: list[Point], label: str, color: str) -> None:
    """The mixing frontier, sampled densely: on a log axis it is not a polyline."""
    hull = nondecreasing_hull(points)
    xs: list[float] = []
    ys: list[float] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(hull):
        for t in np.linspace(0.0, 1.0, 32):
            xs.append(x0 + t * (x1 - x0))
            ys.append(y0 + t * (y1 - y0))
    xs += [hull[-1][0], max(c for c, _ in points) * 1.4]
    ys += [hull[-1][1], hull[-1][1]]
    axes.plot(xs, ys, ls="--", lw=1, color=color, label=label)
