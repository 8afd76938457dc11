"""The `minima` command line.

Each command group lives in its own module with a `register(subparsers)` that
adds its subparser and sets `handler` (args -> exit code). To add a command,
write the module and append its `register` to COMMANDS; nothing else changes.
Exit codes: 0 success, 1 the operation failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TypeAlias

import minima_grpc.cli.eval as eval_
import minima_grpc.cli.gateway as gateway
import minima_grpc.cli.keys as keys
import minima_grpc.cli.seed as seed
import minima_grpc.cli.serve as serve
from minima_grpc import __version__

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Register = Callable[[Subparsers], None]

COMMANDS: tuple[Register, ...] = (
    serve.register,
    gateway.register,
    keys.register,
    seed.register,
    eval_.register,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minima",
        description="Minima recommends the cheapest LLM expected to clear the quality you ask for.",
    )
    parser.add_argument("--version", action="version", version=f"minima {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
