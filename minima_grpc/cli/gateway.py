"""`minima gateway`: the REST adapter alone, in front of any gRPC replica."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

from minima_grpc.cli.logs import configure_logging
from minima_grpc.config import SETTINGS, ConfigError, load_config
from minima_grpc.gateway.serve import run_gateway

if TYPE_CHECKING:
    from minima_grpc.cli import Subparsers

# The serve settings that mean something to the adapter alone.
_FIELDS = ("host", "http_port", "log_level")

DESCRIPTION = """\
Serve the REST /v1 API (and /openapi.json, /docs, /metrics) in front of the
Minima gRPC server at --target. Every request becomes a gRPC call, so keys,
validation and errors are the server's. Body limit and deadlines follow
MINIMA_MAX_RECV_BYTES, MINIMA_DEFAULT_DEADLINE_S and MINIMA_MAX_DEADLINE_S, which
should match the server's. Stop with Ctrl-C or SIGTERM."""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "gateway",
        help="run only the REST adapter, in front of a gRPC server",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target",
        required=True,
        metavar="HOST:PORT",
        help="the gRPC server to call (any gRPC target, e.g. 10.0.0.5:50051)",
    )
    for setting in SETTINGS:
        if setting.field in _FIELDS and setting.flag:
            parser.add_argument(
                setting.flag,
                dest=setting.field,
                metavar=setting.field.rsplit("_", 1)[-1].upper(),
                help=f"{setting.help} (env {setting.env})",
            )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    target = args.target.strip()
    if not target or any(c.isspace() for c in target):
        print(f"minima gateway: --target {args.target!r}: expected HOST:PORT", file=sys.stderr)
        return 2
    overrides = {field: getattr(args, field) for field in _FIELDS if getattr(args, field)}
    try:
        config = load_config(os.environ, overrides)
    except ConfigError as exc:
        print(f"minima gateway: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    try:
        asyncio.run(run_gateway(config, target))
    except OSError as exc:  # the HTTP port is taken or the host is not ours
        print(
            f"minima gateway: cannot listen on {config.host}:{config.http_port}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0
