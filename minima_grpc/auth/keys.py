"""The embedded API key store: keys issued by this server, kept hashed in SQLite.

A key reads `mnm_<key id>_<secret>`. The key id is public (listed, revoked by);
the secret is 256 random bits and only its SHA-256 is stored, compared in
constant time. A plain hash is enough for a high-entropy secret (no password to
brute-force). The file lives under the data directory and is shared by the
running server and the `minima keys` CLI (SQLite WAL), so a key created or
revoked from the CLI takes effect on the next call without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from minima_grpc.engine.errors import Unauthenticated

KEY_PREFIX = "mnm"
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Compared against when the key id is unknown, so both paths do the same work.
_NO_HASH = hashlib.sha256(b"").hexdigest()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""


class KeyStoreError(Exception):
    """The key store cannot be opened or written (path, permissions, corruption)."""


class KeyNotFoundError(LookupError):
    """No key has this id."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """Everything about a key except its secret."""

    key_id: str
    tenant: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    info: KeyInfo
    token: str  # shown once, never stored

    def __repr__(self) -> str:
        return f"IssuedKey(info={self.info!r}, token=<redacted>)"


def validate_tenant(tenant: str) -> str:
    if not _TENANT.match(tenant):
        raise ValueError(
            f"invalid tenant name {tenant!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return tenant


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not _KEY_ID.match(parts[1]) or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyStore:
    """Thread-safe; one SQLite connection guarded by a lock (calls are point lookups)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                # Hashes only, but nobody else needs to read them.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._db = sqlite3.connect(
                path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise KeyStoreError(f"cannot open key store {path}: {exc}") from exc
        self._lock = threading.Lock()

    def create(self, tenant: str) -> IssuedKey:
        validate_tenant(tenant)
        with self._lock:
            return self._insert(tenant)

    def bootstrap(self, tenant: str) -> IssuedKey | None:
        """Create a first key if the store has never held one; None otherwise.

        Check and insert are one transaction, so two servers starting at once
        cannot both print a key.
        """
        validate_tenant(tenant)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    empty = self._db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is None
                    issued = self._insert(tenant) if empty else None
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise KeyStoreError(f"cannot write key store {self.path}: {exc}") from exc
        return issued

    def _insert(self, tenant: str) -> IssuedKey:
        secret = secrets.token_urlsafe(32)
        created = _now()
        while True:
            key_id = secrets.token_hex(6)
            try:
                self._db.execute(
                    "INSERT INTO api_keys (key_id, tenant, secret_sha256, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (key_id, tenant, _digest(secret), created.isoformat()),
                )
                break
            except sqlite3.IntegrityError:  # key id collision: draw another
                continue
            except sqlite3.Error as exc:
                raise KeyStoreError(f"cannot write key store {self.path}: {exc}") from exc
        info = KeyInfo(key_id=key_id, tenant=tenant, created_at=created, revoked_at=None)
        return IssuedKey(info=info, token=f"{KEY_PREFIX}_{key_id}_{secret}")

    def list_keys(self) -> list[KeyInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key_id, tenant, created_at, revoked_at FROM api_keys "
                "ORDER BY created_at, key_id"
            ).fetchall()
        return [_info(row) for row in rows]

    def revoke(self, key_id: str) -> KeyInfo:
        """Revoke a key (idempotent: an already revoked key keeps its first revocation time)."""
        with self._lock:
            self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (_now().isoformat(), key_id),
            )
            row = self._db.execute(
                "SELECT key_id, tenant, created_at, revoked_at FROM api_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise KeyNotFoundError(f"no key with id {key_id!r}")
        return _info(row)

    def verify(self, token: str) -> KeyInfo:
        """The active key behind `token`; raises Unauthenticated otherwise."""
        parts = _split_token(token)
        if parts is None:
            raise Unauthenticated("malformed API key")
        key_id, secret = parts
        with self._lock:
            row = self._db.execute(
                "SELECT key_id, tenant, created_at, revoked_at, secret_sha256 "
                "FROM api_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        matches = hmac.compare_digest(_digest(secret), row[4] if row else _NO_HASH)
        if row is None or not matches or row[3] is not None:
            # One message for unknown, wrong and revoked keys: no oracle.
            raise Unauthenticated("invalid API key")
        return _info(row[:4])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _info(row: tuple[str, str, str, str | None]) -> KeyInfo:
    return KeyInfo(
        key_id=row[0],
        tenant=row[1],
        created_at=datetime.fromisoformat(row[2]),
        revoked_at=datetime.fromisoformat(row[3]) if row[3] else None,
    )
