"""`minima seed`: load past outcomes into a namespace for a warm start."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from minima_grpc.evaluation.dataset import DatasetError, load_routing_dataset
from minima_grpc.evaluation.history import HistoryError, PastTask, load_jsonl, tasks_from_samples

if TYPE_CHECKING:
    from minima_grpc.cli import Subparsers
    from minima_grpc.evaluation.history import SeedSummary

API_KEY_ENV = "MINIMA_API_KEY"
DEFAULT_TARGET = "127.0.0.1:50051"

DESCRIPTION = """\
Write past task -> model -> outcome history into a namespace of a running
Minima, so routing starts warm. Sources: a routing dataset in RouterBench's
layout (--dataset; every model's outcome on every prompt of the chosen split)
or a JSONL file (--jsonl) with one outcome per line:

  {"task": "...", "model": "gpt-4o-mini", "outcome": "success",
   "quality": 0.9, "cost_usd": 0.0004, "input_tokens": 812, "output_tokens": 95}

Outcomes go through the public API like live feedback (one Recommend per task,
one SubmitFeedback per outcome naming the model that ran), so seeding works
against any Minima and any memory backend. Re-running adds nothing: every
outcome carries an idempotency key derived from namespace, source, task and
model. The file is checked completely, and its models against the server's
catalog, before anything is written."""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="load past outcomes into a namespace (cold start)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", type=Path, help="CSV or .pkl in RouterBench's layout")
    source.add_argument("--jsonl", type=Path, help="JSONL, one outcome per line")
    parser.add_argument("--namespace", help="namespace to seed (default: the default namespace)")
    parser.add_argument(
        "--split",
        choices=("train", "test", "all"),
        default="train",
        help="dataset split to load (default train)",
    )
    parser.add_argument("--models", help="comma-separated dataset model columns (default all)")
    parser.add_argument("--limit", type=int, metavar="N", help="load only the first N tasks")
    parser.add_argument(
        "--target", default=DEFAULT_TARGET, help=f"Minima gRPC address (default {DEFAULT_TARGET})"
    )
    parser.add_argument("--api-key", help=f"API key (env {API_KEY_ENV})")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="tasks written at once (default 4)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        if args.concurrency < 1 or (args.limit is not None and args.limit < 1):
            raise HistoryError("--concurrency and --limit must be at least 1")
        tag, tasks = _load(args)
    except (DatasetError, HistoryError) as exc:
        print(f"minima seed: {exc}", file=sys.stderr)
        return 2
    from minima_grpc.evaluation.client import ApiError

    try:
        summary = asyncio.run(_seed(args, tag, tasks))
    except (ApiError, HistoryError) as exc:
        print(f"minima seed: {exc}", file=sys.stderr)
        return 1
    outcomes = summary.written + summary.duplicates + summary.rejected
    print(
        f"seeded namespace {args.namespace or 'default'!r} from {tag}: {summary.tasks} tasks, "
        f"{outcomes} outcomes ({summary.written} new, {summary.duplicates} already there, "
        f"{summary.rejected} rejected)"
    )
    for warning, count in sorted(summary.warnings.items()):
        print(f"  warning {warning}: {count}")
    return 1 if summary.rejected else 0


def _load(args: argparse.Namespace) -> tuple[str, list[PastTask]]:
    if args.jsonl is not None:
        tasks = load_jsonl(args.jsonl)
        tag = args.jsonl.stem
    else:
        models = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
        dataset = load_routing_dataset(args.dataset, models=models)
        samples = dataset.samples if args.split == "all" else dataset.split(args.split)
        tasks = tasks_from_samples(dataset.models, samples)
        tag = f"{args.dataset.stem}:{args.split}"
    return tag, tasks[: args.limit] if args.limit else tasks


async def _seed(args: argparse.Namespace, tag: str, tasks: list[PastTask]) -> SeedSummary:
    from tqdm import tqdm

    from minima_grpc.evaluation.client import MinimaApi
    from minima_grpc.evaluation.history import unknown_models, write_history

    async with MinimaApi(args.target, args.api_key or os.environ.get(API_KEY_ENV)) as api:
        await api.wait_ready(10.0)
        unknown = unknown_models(tasks, await api.model_ids())
        if unknown:
            raise HistoryError(
                f"models not in the server's catalog: {', '.join(unknown)}; nothing was written"
            )
        with tqdm(total=len(tasks), desc=f"seed {args.namespace or 'default'}", unit="task",
                  disable=args.quiet) as bar:  # fmt: skip
            return await write_history(
                api,
                tasks,
                namespace=args.namespace,
                tag=tag,
                concurrency=args.concurrency,
                advance=bar.update,
            )
