"""Run `minima eval` / `minima seed` in-process, through their own argument parsers."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from minima_grpc.cli import eval as eval_command
from minima_grpc.cli import seed as seed_command


def run_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="minima")
    subparsers = parser.add_subparsers(required=True)
    eval_command.register(subparsers)
    seed_command.register(subparsers)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code
