"""`minima serve`: run the gRPC server and the REST adapter until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import textwrap
from typing import TYPE_CHECKING

from minima_grpc.auth.keys import KeyStore, KeyStoreError
from minima_grpc.cli.logs import configure_logging
from minima_grpc.config import SETTINGS, Config, ConfigError, Setting, default_value, load_config
from minima_grpc.gateway.serve import gateway_companion
from minima_grpc.server import ServerStartError, serve

if TYPE_CHECKING:
    from minima_grpc.cli import Subparsers

FIRST_TENANT = "default"

DESCRIPTION = """\
Start Minima: the gRPC API (grpc port) and the REST /v1 API (http port) in one
process. The embedded memory keeps everything in the data directory and needs
no other server; --memory mubit uses a Mubit endpoint instead.

Every call except health checks needs `authorization: Bearer <key>`. On the
first start with the embedded memory, a key for tenant "default" is created and
printed once on stderr; create more with `minima keys create`.

Stop with Ctrl-C or SIGTERM: health turns NOT_SERVING, calls in flight finish,
and the process exits 0.

Each flag overrides its environment variable; the variables below have no flag."""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the gRPC server and the REST adapter",
        description=DESCRIPTION,
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for setting in SETTINGS:
        if setting.flag:
            parser.add_argument(
                setting.flag,
                dest=setting.field,
                metavar=setting.field.rsplit("_", 1)[-1].upper(),
                help=f"{setting.help} (env {setting.env}; default {_default(setting)})",
            )
    parser.set_defaults(handler=run)


def _default(setting: Setting) -> str:
    if setting.field == "data_dir":
        return "$XDG_DATA_HOME/minima, else ~/.local/share/minima"
    value = default_value(setting.field)
    return "none" if value is None else str(value)


def _environment_help() -> str:
    lines = ["environment-only settings:"]
    for setting in SETTINGS:
        if not setting.flag:
            lines.append(f"  {setting.env:<36} {setting.help} (default {_default(setting)})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    overrides = {
        s.field: getattr(args, s.field) for s in SETTINGS if s.flag and getattr(args, s.field)
    }
    try:
        config = load_config(os.environ, overrides)
    except ConfigError as exc:
        print(f"minima serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level)
    try:
        if config.memory == "embedded":
            _announce_first_key(config)
        asyncio.run(serve(config, companions=[gateway_companion]))
    except (ServerStartError, KeyStoreError, OSError) as exc:
        print(f"minima serve: {exc}", file=sys.stderr)
        return 1
    return 0


def _announce_first_key(config: Config) -> None:
    store = KeyStore(config.keys_path)
    try:
        issued = store.bootstrap(FIRST_TENANT)
    finally:
        store.close()
    if issued is None:
        return
    rule = "=" * 72
    message = f"""\
        {rule}
        Minima created an API key for tenant "{FIRST_TENANT}". It is shown only once:

            {issued.token}

        Send it as metadata/header `authorization: Bearer <key>`.
        List, add and revoke keys with `minima keys` (store: {config.keys_path}).
        {rule}"""
    print(textwrap.dedent(message), file=sys.stderr, flush=True)
