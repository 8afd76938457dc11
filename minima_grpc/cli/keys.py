"""`minima keys create|list|revoke`: manage the embedded backend's API keys.

Works whether or not the server runs (they share the SQLite key store under the
data directory); a revoked key stops working on its next call.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from minima_grpc.auth.keys import KeyInfo, KeyNotFoundError, KeyStore, KeyStoreError
from minima_grpc.config import ConfigError, load_config

if TYPE_CHECKING:
    from minima_grpc.cli import Subparsers

DEFAULT_TENANT = "default"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description="Manage the API keys of the embedded backend. Each key belongs to one "
        "tenant, whose data no other tenant's key can reach. Keys are stored hashed; "
        "a key is shown once, when it is created.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="issue a new key and print it (once)")
    create.add_argument(
        "--tenant", default=DEFAULT_TENANT, help=f"tenant the key belongs to ({DEFAULT_TENANT})"
    )
    create.set_defaults(handler=_create)

    listing = actions.add_parser("list", help="list keys (ids, tenants, dates; never secrets)")
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", metavar="ID", help="key id, as shown by `minima keys list`")
    revoke.set_defaults(handler=_revoke)

    for action in (create, listing, revoke):
        action.add_argument(
            "--data-dir", help="data directory holding keys.db (env MINIMA_DATA_DIR)"
        )


def _with_store(args: argparse.Namespace, action: Callable[[KeyStore], int]) -> int:
    """Open the store, run `action`, close; errors become a message and an exit code."""
    try:
        config = load_config(os.environ, {"data_dir": args.data_dir} if args.data_dir else {})
        store = KeyStore(config.keys_path)
    except ConfigError as exc:
        return _fail(exc, 2)
    except KeyStoreError as exc:
        return _fail(exc, 1)
    try:
        return action(store)
    except ValueError as exc:  # a bad tenant name
        return _fail(exc, 2)
    except (KeyNotFoundError, KeyStoreError, sqlite3.Error) as exc:
        return _fail(exc, 1)
    finally:
        store.close()


def _fail(error: Exception, code: int) -> int:
    print(f"minima keys: {error}", file=sys.stderr)
    return code


def _create(args: argparse.Namespace) -> int:
    def action(store: KeyStore) -> int:
        issued = store.create(args.tenant)
        print(issued.token)
        print(
            f"Created key {issued.info.key_id} for tenant {issued.info.tenant!r}. "
            "It is shown only once: store it now.",
            file=sys.stderr,
        )
        return 0

    return _with_store(args, action)


def _list(args: argparse.Namespace) -> int:
    def action(store: KeyStore) -> int:
        keys = store.list_keys()
        if not keys:
            print("no keys", file=sys.stderr)
            return 0
        rows = [("KEY ID", "TENANT", "CREATED", "REVOKED"), *(_row(key) for key in keys)]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            print("  ".join(cells).rstrip())
        return 0

    return _with_store(args, action)


def _row(key: KeyInfo) -> tuple[str, str, str, str]:
    revoked = key.revoked_at.isoformat() if key.revoked_at else "-"
    return key.key_id, key.tenant, key.created_at.isoformat(), revoked


def _revoke(args: argparse.Namespace) -> int:
    def action(store: KeyStore) -> int:
        info = store.revoke(args.key_id)
        revoked_at = info.revoked_at.isoformat() if info.revoked_at else "?"
        print(f"Key {info.key_id} (tenant {info.tenant!r}) is revoked since {revoked_at}.")
        return 0

    return _with_store(args, action)
