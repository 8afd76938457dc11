"""`minima eval`: replay a routing dataset through Minima and score its routing."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minima_grpc.evaluation.dataset import DatasetError, RoutingDataset, load_routing_dataset

if TYPE_CHECKING:
    from minima_grpc.cli import Subparsers
    from minima_grpc.evaluation.client import MinimaApi
    from minima_grpc.evaluation.replay import ReplayPlan

DEFAULT_DATASET = Path("../shared/data/routerbench/routerbench_0shot_subset.csv")
DEFAULT_OUT = Path("eval-out")
API_KEY_ENV = "MINIMA_API_KEY"

DESCRIPTION = """\
Replay a routing dataset (RouterBench's wide layout: a 0/1 score column per
model and '<model>|total_cost'; CSV, or RouterBench's pandas pickle when pandas
is installed) through Minima over gRPC, as a user's traffic would, and score
the routing against every single model, random, cheapest and the oracle.

The dataset's models become the run's catalog (written next to the report):
one blended $/Mtok per model fitted on the train split, and neutral priors
unless --priors train. Without --target a private `minima serve` is started
with the embedded memory, a fresh data dir and that catalog.

Protocol (default): learn on the train split in one namespace, sending
feedback for the recommended model's real outcome and cost (--learn bandit);
then recommend every test prompt at each slider setting without feedback, so
every setting sees the same learned state. --protocol online gives each
setting its own namespace that learns the train split at that setting and
keeps learning on the test split. One bandit run is one learning history
(which models got tried where follows the exploration draws); --paths N
repeats the protocol in N fresh namespaces and reports the mean and the spread.

Writes <out>/<dataset>.json (every figure), <out>/<dataset>.png (cost-quality
curves) and <out>/<dataset>.catalog.json, and prints a table."""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="replay a routing dataset and score the routing",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        default=DEFAULT_DATASET,
        help=f"CSV or .pkl in RouterBench's layout (default {DEFAULT_DATASET})",
    )
    parser.add_argument(
        "--target",
        metavar="HOST:PORT",
        help="a running Minima to evaluate (default: start a private one)",
    )
    parser.add_argument("--api-key", help=f"key for --target (env {API_KEY_ENV})")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"directory for the report, plot and catalog (default {DEFAULT_OUT})",
    )
    parser.add_argument("--models", help="comma-separated model columns to use (default all)")
    parser.add_argument(
        "--sliders",
        default="0,1,2,3,4,5,6,7,8,9,10",
        help="cost_quality_tradeoff settings to measure (default 0..10)",
    )
    parser.add_argument(
        "--learn",
        choices=("bandit", "full", "none"),
        default="bandit",
        help="bandit: feedback for the recommended model only (default); "
        "full: every model's outcome on every train prompt; none: cold start",
    )
    parser.add_argument(
        "--protocol",
        choices=("frozen", "online"),
        default="frozen",
        help="frozen: learn once, measure without feedback (default); online: "
        "a namespace per setting, feedback on the test split too",
    )
    parser.add_argument(
        "--train-slider",
        type=_slider,
        default=5.0,
        help="setting used while learning with --protocol frozen (default 5)",
    )
    parser.add_argument(
        "--paths",
        type=int,
        default=1,
        metavar="N",
        help="independent learning histories to average over (default 1)",
    )
    parser.add_argument(
        "--hints",
        action="store_true",
        help="also send task_type (from the benchmark name) and prompt tokens",
    )
    parser.add_argument(
        "--priors",
        choices=("neutral", "train"),
        default="neutral",
        help="catalog priors: neutral (default) or each model's train accuracy",
    )
    parser.add_argument("--train", type=int, metavar="N", help="use N train prompts (seeded)")
    parser.add_argument("--test", type=int, metavar="N", help="use N test prompts (seeded)")
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=0.3,
        help="test share when the dataset has no split column (default 0.3)",
    )
    parser.add_argument(
        "--namespace",
        help="namespace (prefix) to learn in (default: the default namespace of a private "
        "server; eval-<random> with --target)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="recommendations in flight while measuring (default 4)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the private server's data here (default: a temp dir, removed)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)  # fmt: skip


def _slider(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 10.0:
        raise argparse.ArgumentTypeError(f"{raw}: a slider setting is between 0 and 10")
    return value


def _sliders(raw: str) -> tuple[float, ...]:
    try:
        values = tuple(_slider(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sliders {raw!r}: expected numbers") from None
    if not values:
        raise argparse.ArgumentTypeError("--sliders: give at least one setting")
    return tuple(dict.fromkeys(values))


def run(args: argparse.Namespace) -> int:
    try:
        sliders = _sliders(args.sliders)
        if args.concurrency < 1:
            raise argparse.ArgumentTypeError("--concurrency must be at least 1")
        if args.paths < 1:
            raise argparse.ArgumentTypeError("--paths must be at least 1")
        dataset = _dataset(args)
    except (argparse.ArgumentTypeError, DatasetError) as exc:
        print(f"minima eval: {exc}", file=sys.stderr)
        return 2
    # Imported here: the replay needs tqdm and matplotlib (the `eval` extra),
    # which `minima serve` does not.
    from minima_grpc.evaluation.catalog_file import build_catalog, write_catalog
    from minima_grpc.evaluation.client import ApiError
    from minima_grpc.evaluation.local_server import LocalServerError
    from minima_grpc.evaluation.plot import plot_report
    from minima_grpc.evaluation.replay import ReplayPlan
    from minima_grpc.evaluation.report import render_table

    stem = Path(args.dataset).stem
    try:
        catalog_path = write_catalog(
            build_catalog(dataset, dataset.split("train"), args.priors),
            args.out / f"{stem}.catalog.json",
        )
    except OSError as exc:
        print(f"minima eval: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 1
    plan = ReplayPlan(
        # A private server starts empty; on a shared one, keep out of others' data.
        namespace=args.namespace or (f"eval-{secrets.token_hex(4)}" if args.target else None),
        sliders=sliders,
        learn=args.learn,
        protocol=args.protocol,
        train_slider=args.train_slider,
        hints=args.hints,
        concurrency=args.concurrency,
        quiet=args.quiet,
        paths=args.paths,
    )
    try:
        report = asyncio.run(_evaluate(args, dataset, plan, catalog_path))
    except (ApiError, LocalServerError) as exc:
        print(f"minima eval: {exc}\n(this run's catalog file: {catalog_path})", file=sys.stderr)
        return 1
    report_path = args.out / f"{stem}.json"
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot_path = plot_report(report, args.out / f"{stem}.png")
    print(render_table(report))
    print(f"\nreport {report_path}\nplot   {plot_path}\ncatalog {catalog_path}")
    return 0


def _dataset(args: argparse.Namespace) -> RoutingDataset:
    models = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
    dataset = load_routing_dataset(args.dataset, models=models, test_fraction=args.test_fraction)
    if args.train is not None or args.test is not None:
        dataset = dataset.subset(train=args.train, test=args.test)
    for split in ("train", "test"):
        if not dataset.split(split):
            raise DatasetError(f"{args.dataset}: the {split} split is empty")
    return dataset


async def _evaluate(
    args: argparse.Namespace, dataset: RoutingDataset, plan: ReplayPlan, catalog: Path
) -> dict[str, Any]:
    from minima_grpc.evaluation.replay import Replay
    from minima_grpc.evaluation.report import build_report

    options = {
        name: str(value) if isinstance(value, Path) else value
        for name, value in vars(args).items()
        if name not in ("handler", "api_key")  # never store a key
    }
    context: dict[str, Any] = {"catalog_file": str(catalog), "options": options}
    async with _api(args, catalog, context) as api:
        result = await Replay(api, dataset, plan).run()
    return build_report(dataset, result, context)


@asynccontextmanager
async def _api(
    args: argparse.Namespace, catalog: Path, context: dict[str, Any]
) -> AsyncIterator[MinimaApi]:
    from minima_grpc.evaluation.client import MinimaApi
    from minima_grpc.evaluation.local_server import local_server

    if args.target:
        context["server"] = {"target": args.target, "started_by_eval": False}
        async with MinimaApi(args.target, args.api_key or os.environ.get(API_KEY_ENV)) as api:
            await api.wait_ready(10.0)
            yield api
        return
    with tempfile.TemporaryDirectory(prefix="minima-eval-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        async with (
            local_server(catalog, data_dir) as server,
            MinimaApi(server.target, server.api_key) as api,
        ):
            context["server"] = {"target": server.target, "started_by_eval": True,
                                 "memory": "embedded", "data_dir": str(data_dir)}  # fmt: skip
            yield api
